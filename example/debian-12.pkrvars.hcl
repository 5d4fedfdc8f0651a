# Debian 12 with the pipeline of ubuntu-22.04.pkr.hcl:
#   packer build -var-file=example/debian-12.pkrvars.hcl example/ubuntu-22.04.pkr.hcl
# Debian's cloud images log in as "admin" and carry no rsyslog; golden-harden's packages module
# installs it, for the syslog and auth.log files the CloudWatch agent ships.

os = "debian-12"
