"""The staff desk: intake, queues and the case page. Views translate HTTP into service calls."""
