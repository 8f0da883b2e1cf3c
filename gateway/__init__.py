"""The Envoy gateway: configuration template, Lua shims and the descriptor set it loads."""
