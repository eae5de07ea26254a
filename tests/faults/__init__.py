"""Fault cases: each test states the fault and asserts the safe outcome."""
