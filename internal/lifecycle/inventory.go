// Package lifecycle decides and carries out what happens to a golden AMI after it is built: tagging,
// copying, sharing, deprecating, publishing, and pruning older images of the same pipeline.
//
// The prune decision is a pure function (Plan) from an Inventory of one region to a plan with a
// reason for every image. Collecting the inventory (Collect) and carrying out the plan (Executor)
// are the only parts that talk to AWS.
package lifecycle

import (
	"fmt"
	"time"
)

// Image is one AMI as the planner sees it.
type Image struct {
	ID           string            `json:"id"`
	Name         string            `json:"name"`
	OwnerID      string            `json:"owner_id"`
	State        string            `json:"state"`
	CreationDate time.Time         `json:"creation_date"`
	Tags         map[string]string `json:"tags,omitempty"`
	// DeregistrationProtected is true when EC2 refuses to deregister the image until protection is
	// turned off (and any cooldown has passed).
	DeregistrationProtected bool       `json:"deregistration_protected,omitempty"`
	Snapshots               []Snapshot `json:"snapshots,omitempty"`
	// LastLaunched is EC2's LastLaunchedTime: the last launch from the image by any account, zero
	// when never (EC2 records it about a day late).
	LastLaunched time.Time `json:"last_launched,omitempty"`
	// Public is true when anyone may launch the image; SharedWith lists the accounts,
	// organizations and OUs with launch permission (read for the images the prune may delete).
	Public     bool     `json:"public,omitempty"`
	SharedWith []string `json:"shared_with,omitempty"`
}

// Snapshot is an EBS snapshot backing an image.
type Snapshot struct {
	ID string `json:"id"`
	// SizeGiB is the size of the volume the snapshot was taken from. EBS bills only the blocks a
	// snapshot really stores (snapshots are incremental), so savings computed from it are an upper
	// bound.
	SizeGiB int64 `json:"size_gib"`
}

// UseKind names the kind of resource that can launch instances from an image.
type UseKind string

// Every kind of resource that keeps an image in use.
const (
	UseInstance            UseKind = "instance"
	UseLaunchTemplate      UseKind = "launch-template"
	UseAutoScalingGroup    UseKind = "auto-scaling-group"
	UseLaunchConfiguration UseKind = "launch-configuration"
	UseSSMParameter        UseKind = "ssm-parameter"
	UseImageRecipe         UseKind = "image-recipe"
	UseContainerRecipe     UseKind = "container-recipe"
)

// Use records that a resource refers to an image, so deleting the image would break it.
type Use struct {
	ImageID string  `json:"image_id"`
	Kind    UseKind `json:"kind"`
	// Resource identifies the user: an instance id, a launch template id, an Auto Scaling group
	// name, a launch configuration name, an SSM parameter name or an Image Builder recipe's ARN.
	Resource string `json:"resource"`
	// Detail says how: the instance state, the template version, the template an Auto Scaling
	// group launches from.
	Detail string `json:"detail,omitempty"`
}

// String describes the use for a person reading the plan.
func (u Use) String() string {
	var s string
	switch u.Kind {
	case UseInstance:
		s = "instance " + u.Resource
	case UseLaunchTemplate:
		s = "launch template " + u.Resource
	case UseAutoScalingGroup:
		s = "Auto Scaling group " + u.Resource
	case UseLaunchConfiguration:
		s = "launch configuration " + u.Resource
	case UseSSMParameter:
		s = "SSM parameter " + u.Resource
	case UseImageRecipe:
		s = "Image Builder image recipe " + u.Resource
	case UseContainerRecipe:
		s = "Image Builder container recipe " + u.Resource
	default:
		s = fmt.Sprintf("%s %s", u.Kind, u.Resource)
	}
	if u.Detail != "" {
		s += " (" + u.Detail + ")"
	}
	return s
}

// Inventory is everything the planner needs to know about one region.
type Inventory struct {
	Region string `json:"region"`
	// AccountID is the account running the prune. Images owned by anyone else are never deleted;
	// when it is empty no image's ownership can be proven and nothing is deleted.
	AccountID string `json:"account_id"`
	// Images holds every image the account owns in the region, not only the ones the prune policy
	// selects: a snapshot is deleted only when no remaining image refers to it.
	Images []Image `json:"images"`
	// Uses lists every reference from a resource to an image.
	Uses []Use `json:"uses"`
	// Pinned maps image ids that must stay to the reason: the image this build produced, its
	// copies, the image it was built from.
	Pinned map[string]string `json:"pinned,omitempty"`
}
