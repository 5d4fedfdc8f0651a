if [ -z "$_bad" ]; then g_say "no mail transfer agent listens on a non-loopback address"; return 0; fi
g_say "listening on a non-loopback address:"
printf '%s\n' "$_bad"
return 1
