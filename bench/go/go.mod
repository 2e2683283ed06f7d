module luprobe.bench

go 1.19
