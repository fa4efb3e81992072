"""What a finished multirun leaves at its root: summary tables and a comparison figure."""
