package awsconf

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/golden-ami/packer-plugin-golden/internal/secretfilter"
)

// maskedCredentials registers every credential the chain resolves with Packer's log secret
// filter: keys from the environment, a profile, SSO or an assumed role are then masked like those
// written in a template. The clients put a credentials cache in front of it, so it runs once per
// credential, not once per request.
type maskedCredentials struct{ aws.CredentialsProvider }

func (m maskedCredentials) Retrieve(ctx context.Context) (aws.Credentials, error) {
	creds, err := m.CredentialsProvider.Retrieve(ctx)
	if err == nil {
		secretfilter.Set(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken)
	}
	return creds, err
}
