module luprobe.test

go 1.19
