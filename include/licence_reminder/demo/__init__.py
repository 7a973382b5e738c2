"""Sample departments and fake licence records for the demo, tests and benchmarks."""
