package harden

import "time"

// timeNow is the clock waivers are judged by; tests replace it.
var timeNow = time.Now
