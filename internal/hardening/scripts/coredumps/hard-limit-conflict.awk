$1 == "*" && $2 == "hard" && $3 == "core" && $4 != "0" { print FILENAME ":" FNR ": " $0 }
