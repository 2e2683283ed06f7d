module luprobe.stdsig

go 1.22
