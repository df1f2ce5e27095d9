"""Team results: tallies, statistics, the anonymity gate, dashboards and exports."""
