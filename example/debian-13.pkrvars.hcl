# Debian 13 with the pipeline of ubuntu-22.04.pkr.hcl:
#   packer build -var-file=example/debian-13.pkrvars.hcl example/ubuntu-22.04.pkr.hcl
# As Debian 12: the images log in as "admin" and carry no rsyslog (installed by golden-harden).

os = "debian-13"
