module sock/benchmarks/conns-go

go 1.19
