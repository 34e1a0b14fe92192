module intake-hub/bench/loadgen

go 1.22
