$1 == "pool" || $1 == "server" || $1 == "peer" { print FILENAME ":" FNR ": " $0 }
