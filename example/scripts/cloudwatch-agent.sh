#!/bin/sh
# The Amazon CloudWatch agent from AWS's download site: the .deb of this distribution and
# architecture (not the Amazon Linux .rpm), installed with dpkg, its configuration checked and
# translated by the agent itself, and enabled so that it starts on the instances launched from the
# image. The configuration was uploaded to /tmp/amazon-cloudwatch-agent.json. Run as root.
set -eu
# shellcheck source=/dev/null
. /etc/os-release
arch=$(dpkg --print-architecture)
deb=/tmp/amazon-cloudwatch-agent.deb
curl -fsSL -o "$deb" "https://amazoncloudwatch-agent.s3.amazonaws.com/$ID/$arch/latest/amazon-cloudwatch-agent.deb"
dpkg -i -E "$deb" >/dev/null
rm -f "$deb"

etc=/opt/aws/amazon-cloudwatch-agent/etc
install -m 0644 -o root -g root /tmp/amazon-cloudwatch-agent.json "$etc/amazon-cloudwatch-agent.json"
rm -f /tmp/amazon-cloudwatch-agent.json
# The agent runs as cwagent, which must read the logs it ships (auth.log is root:adm 0640).
usermod -aG adm cwagent
/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 \
  -c "file:$etc/amazon-cloudwatch-agent.json"
systemctl enable amazon-cloudwatch-agent.service >/dev/null 2>&1
