"""kamconf's Prometheus configuration, alert rules and Grafana dashboards, and `make monitor`."""
