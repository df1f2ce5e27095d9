"""Tests for follow-up actions."""
