"""A loopback SMS gateway simulator speaking the Alibaba Cloud, Tencent Cloud and generic government
platform protocols, signatures verified."""
