"""Long runs of the test suite's property machines, apart from the suite: `make soak`."""
