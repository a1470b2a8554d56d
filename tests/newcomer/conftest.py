"""Tests of what a newcomer meets first: the installed command, the README, a fresh install."""
