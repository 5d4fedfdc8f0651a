# Ubuntu 26.04 with the pipeline of ubuntu-22.04.pkr.hcl:
#   packer build -var-file=example/ubuntu-26.04.pkrvars.hcl example/ubuntu-22.04.pkr.hcl
# 26.04 uses sudo-rs and the Rust coreutils by default and socket-activates sshd. When Docker's
# repository has no 26.04 suite yet, scripts/docker.sh installs Ubuntu's docker.io instead.

os = "ubuntu-26.04"
