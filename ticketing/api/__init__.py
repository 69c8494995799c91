"""The JSON API v1: tokens, endpoints, problem+json errors and the OpenAPI document."""
