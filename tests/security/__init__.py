"""Security cases: each test states the attack and asserts the safe outcome."""
