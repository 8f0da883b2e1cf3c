"""collection_service over gRPC: the servicer (protobuf in and out, nothing else) and the error table."""
