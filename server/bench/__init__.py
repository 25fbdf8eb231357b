"""Benchmarks behind `drumgrid bench TARGET`: each prints ratios or x real time measured in
one run on this machine, medians of repeated runs after warm-up."""
