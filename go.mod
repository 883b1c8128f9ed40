module rfadesk

go 1.26.8
