package ebs

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// mappings is the launch's root volume for the source image: the root device of the image with
// this volume's type, size, performance and encryption, deleted with the instance.
func (v *RootVolume) mappings(image types.Image) ([]types.BlockDeviceMapping, error) {
	device := aws.ToString(image.RootDeviceName)
	if device == "" {
		return nil, fmt.Errorf("source AMI %s names no root device", aws.ToString(image.ImageId))
	}
	ebs := &types.EbsBlockDevice{
		VolumeType:          types.VolumeType(v.VolumeType),
		Encrypted:           v.Encrypted.ToBoolPointer(),
		DeleteOnTermination: aws.Bool(true),
	}
	if v.VolumeSize != 0 {
		ebs.VolumeSize = aws.Int32(v.VolumeSize)
	}
	if v.IOPS != 0 {
		ebs.Iops = aws.Int32(v.IOPS)
	}
	if v.Throughput != 0 {
		ebs.Throughput = aws.Int32(v.Throughput)
	}
	if v.KMSKeyID != "" {
		ebs.KmsKeyId = aws.String(v.KMSKeyID)
	}
	return []types.BlockDeviceMapping{{DeviceName: aws.String(device), Ebs: ebs}}, nil
}
