# Ubuntu 24.04 with the pipeline of ubuntu-22.04.pkr.hcl:
#   packer build -var-file=example/ubuntu-24.04.pkrvars.hcl example/ubuntu-22.04.pkr.hcl
# 24.04 socket-activates sshd (ssh.socket), which golden-harden configures when the SSH port
# changes, and ships AWS CLI v2 only as a snap: scripts/awscli.sh installs AWS's build.

os = "ubuntu-24.04"
