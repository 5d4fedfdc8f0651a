package awsconf

import (
	"errors"

	"github.com/aws/smithy-go"
)

// ErrorCode is the AWS error code of err (e.g. "InvalidAMIID.NotFound", "DependencyViolation"),
// "" when err is not an AWS API error. The SDK wraps API errors in operation errors; ErrorCode
// looks through them.
func ErrorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}
