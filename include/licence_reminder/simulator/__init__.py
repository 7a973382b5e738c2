"""A loopback SMS gateway simulator speaking the Alibaba Cloud SMS protocol, signatures verified."""
