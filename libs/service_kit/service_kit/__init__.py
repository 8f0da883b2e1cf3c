"""What every gRPC service of this backend needs and none of them owns. It names no service and no domain
concept: service names, tables and error tables come in as parameters."""
