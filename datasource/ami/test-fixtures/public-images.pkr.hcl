# Acceptance fixture, run with the shared data source of the newest Debian 12 image
# (internal/acceptance/templates, sorted by creation date): golden-ami against real AWS, on images
# anyone can read, so the test creates nothing. debian_by_name selects the same by name (Debian's
# names end in the build date, so both must agree), al2023 reads a public SSM parameter; the build
# writes what they returned to var.out as JSON.

variable "out" {
  type = string
}

data "golden-ami" "debian_by_name" {
  region       = var.region
  owners       = [var.debian_owner]
  name         = "debian-12-amd64-*"
  architecture = "x86_64"
  sort_by      = "name"
}

data "golden-ami" "al2023" {
  region        = var.region
  ssm_parameter = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
}

source "null" "outputs" {
  communicator = "none"
}

build {
  sources = ["source.null.outputs"]

  provisioner "shell-local" {
    inline = [
      "cat > '${var.out}' <<'JSON'",
      jsonencode({
        debian         = data.golden-ami.debian
        debian_by_name = data.golden-ami.debian_by_name
        al2023         = data.golden-ami.al2023
      }),
      "JSON",
    ]
  }
}
