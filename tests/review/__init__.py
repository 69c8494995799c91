"""Tests of the supervisor review front door (review/)."""
