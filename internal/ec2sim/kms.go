package ec2sim

import (
	"fmt"
	"strings"
	"time"
)

// AWS Key Management Service over the JSON 1.1 protocol: the key metadata callers need to tell
// the AWS managed EBS key from customer managed keys. Keys only exist as metadata: nothing is
// encrypted.

var kmsHandlers = map[string]handler{
	"DescribeKey": describeKey,
	"ListAliases": listAliases,
}

// Who manages a KMS key, as DescribeKey reports it.
const (
	KeyManagerAWS      = "AWS"
	KeyManagerCustomer = "CUSTOMER"
)

// EBSManagedKeyAlias is the alias of the key EC2 encrypts EBS volumes and snapshots with when no
// key is named: every region of every account has one, and other accounts can never use it.
const EBSManagedKeyAlias = "alias/aws/ebs"

type kmsKey struct {
	seq
	id, arn, alias, manager, description string
	created                              time.Time
}

// kmsKeyID formats 32 hex digits as a KMS key id (a UUID).
func kmsKeyID(h string) string {
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func (s *Server) kmsARN(region, resource string) string {
	return fmt.Sprintf("arn:aws:kms:%s:%s:%s", region, s.opts.AccountID, resource)
}

// addKMSKeyLocked creates a key with an optional alias ("alias/..."). Callers hold s.mu.
func (s *Server) addKMSKeyLocked(rs *regionState, id, alias, manager, description string) *kmsKey {
	k := &kmsKey{seq: s.next(), id: id, arn: s.kmsARN(rs.name, "key/"+id), alias: alias,
		manager: manager, description: description, created: time.Now().UTC()}
	rs.kmsKeys[id] = k
	if alias != "" {
		rs.kmsAliases[alias] = k
	}
	return k
}

// seedEBSManagedKey creates the region's aws/ebs key. Its id is derived from the region and the
// account, so it is the same on every run, as the key of a real account stays the same.
func (s *Server) seedEBSManagedKey(rs *regionState) {
	s.addKMSKeyLocked(rs, kmsKeyID(digest("kms", rs.name, s.opts.AccountID)), EBSManagedKeyAlias, KeyManagerAWS,
		"Default key that protects my EBS volumes when no other key is defined")
}

// AddKMSKey creates a customer managed KMS key in region and returns its key id and key ARN.
// alias ("alias/golden" or "golden"; empty for none) names it too. Aliases under alias/aws/ are
// AWS's and an alias names one key only: both panic, as they are mistakes in a test.
func (s *Server) AddKMSKey(region, alias string) (keyID, arn string) {
	if alias != "" {
		alias = aliasName(alias)
	}
	if strings.HasPrefix(alias, "alias/aws/") {
		panic(fmt.Sprintf("ec2sim: %s is reserved for AWS managed keys", alias))
	}
	s.withRegion(region, func(rs *regionState) {
		if _, taken := rs.kmsAliases[alias]; taken {
			panic(fmt.Sprintf("ec2sim: alias %s already exists in %s", alias, region))
		}
		k := s.addKMSKeyLocked(rs, s.newUUIDLocked(), alias, KeyManagerCustomer, "")
		keyID, arn = k.id, k.arn
	})
	return keyID, arn
}

// aliasName is an alias as KMS names it, "alias/" included.
func aliasName(alias string) string { return "alias/" + strings.TrimPrefix(alias, "alias/") }

// EBSManagedKey returns the key id and ARN of region's AWS managed EBS key (aws/ebs).
func (s *Server) EBSManagedKey(region string) (keyID, arn string) {
	s.withRegion(region, func(rs *regionState) {
		k := rs.ebsManagedKey()
		keyID, arn = k.id, k.arn
	})
	return keyID, arn
}

func (rs *regionState) ebsManagedKey() *kmsKey { return rs.kmsAliases[EBSManagedKeyAlias] }

// findKMSKey resolves a key reference the way KMS does: key id, key ARN, alias name or alias
// ARN. ARNs of another region or account are not found.
func (s *Server) findKMSKey(rs *regionState, ref string) (*kmsKey, error) {
	if ref == "" {
		return nil, kmsValidation("1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null")
	}
	resource := ref
	if strings.HasPrefix(ref, "arn:") {
		parts := strings.SplitN(ref, ":", 6)
		if len(parts) != 6 || parts[2] != "kms" {
			return nil, kmsNotFound("Invalid arn")
		}
		if parts[3] != rs.name {
			return nil, kmsNotFound("Invalid arn " + parts[3])
		}
		if parts[4] != s.opts.AccountID {
			return nil, kmsNotFound(fmt.Sprintf("Key '%s' does not exist", ref))
		}
		resource = parts[5]
	}
	if strings.HasPrefix(resource, "alias/") {
		if k, ok := rs.kmsAliases[resource]; ok {
			return k, nil
		}
		return nil, kmsNotFound(fmt.Sprintf("Alias %s is not found.", s.kmsARN(rs.name, resource)))
	}
	if k, ok := rs.kmsKeys[strings.TrimPrefix(resource, "key/")]; ok {
		return k, nil
	}
	return nil, kmsNotFound(fmt.Sprintf("Key '%s' does not exist", s.kmsARN(rs.name, "key/"+strings.TrimPrefix(resource, "key/"))))
}

// ebsKeyARN is the key EC2 records on a new encrypted volume or snapshot: the ARN of the key
// the request named, or of the region's aws/ebs key when it named none. A reference to a key
// the simulator does not know is kept as given: EC2 checks keys only after answering.
func (s *Server) ebsKeyARN(rs *regionState, ref string) string {
	if ref == "" {
		return rs.ebsManagedKey().arn
	}
	if k, err := s.findKMSKey(rs, ref); err == nil {
		return k.arn
	}
	return ref
}

// isEBSManagedKey reports whether a snapshot's key reference is the region's aws/ebs key.
func (s *Server) isEBSManagedKey(rs *regionState, ref string) bool {
	k, err := s.findKMSKey(rs, ref)
	return err == nil && k.manager == KeyManagerAWS
}

func kmsValidation(message string) *apiError {
	return &apiError{Code: "ValidationException", Message: message, Status: 400}
}

func kmsNotFound(message string) *apiError {
	return &apiError{Code: "NotFoundException", Message: message, Status: 400}
}

type kmsKeyMetadata struct {
	AWSAccountID          string   `json:"AWSAccountId"`
	Arn                   string   `json:"Arn"`
	CreationDate          float64  `json:"CreationDate"`
	CustomerMasterKeySpec string   `json:"CustomerMasterKeySpec"`
	Description           string   `json:"Description"`
	Enabled               bool     `json:"Enabled"`
	EncryptionAlgorithms  []string `json:"EncryptionAlgorithms"`
	KeyID                 string   `json:"KeyId"`
	KeyManager            string   `json:"KeyManager"`
	KeySpec               string   `json:"KeySpec"`
	KeyState              string   `json:"KeyState"`
	KeyUsage              string   `json:"KeyUsage"`
	MultiRegion           bool     `json:"MultiRegion"`
	Origin                string   `json:"Origin"`
}

func epochSeconds(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

// describeKey answers the metadata of a symmetric encryption key, named by key id, key ARN,
// alias name or alias ARN.
func describeKey(s *Server, rs *regionState, req *request) (any, error) {
	var in struct{ KeyId string }
	if err := decodeJSON(req, &in); err != nil {
		return nil, err
	}
	k, err := s.findKMSKey(rs, in.KeyId)
	if err != nil {
		return nil, err
	}
	return map[string]any{"KeyMetadata": kmsKeyMetadata{
		AWSAccountID: s.opts.AccountID, Arn: k.arn, CreationDate: epochSeconds(k.created),
		CustomerMasterKeySpec: "SYMMETRIC_DEFAULT", Description: k.description, Enabled: true,
		EncryptionAlgorithms: []string{"SYMMETRIC_DEFAULT"}, KeyID: k.id, KeyManager: k.manager,
		KeySpec: "SYMMETRIC_DEFAULT", KeyState: "Enabled", KeyUsage: "ENCRYPT_DECRYPT", Origin: "AWS_KMS",
	}}, nil
}

type kmsAlias struct {
	AliasArn        string  `json:"AliasArn"`
	AliasName       string  `json:"AliasName"`
	CreationDate    float64 `json:"CreationDate"`
	LastUpdatedDate float64 `json:"LastUpdatedDate"`
	TargetKeyID     string  `json:"TargetKeyId"`
}

// listAliases lists the region's aliases in creation order, or those of one key (KeyId: key id
// or key ARN), Limit 1-100 (default 50) per page.
func listAliases(s *Server, rs *regionState, req *request) (any, error) {
	var in struct {
		KeyId  string
		Limit  int
		Marker string
	}
	if err := decodeJSON(req, &in); err != nil {
		return nil, err
	}
	if in.Limit < 0 || in.Limit > 100 {
		return nil, kmsValidation(fmt.Sprintf("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 100", in.Limit))
	}
	if in.Limit == 0 {
		in.Limit = 50
	}
	var only *kmsKey
	if in.KeyId != "" {
		k, err := s.findKMSKey(rs, in.KeyId)
		if err != nil {
			return nil, err
		}
		only = k
	}
	var keys []*kmsKey
	for _, k := range sortedBySeq(rs.kmsKeys) {
		if k.alias != "" && (only == nil || k == only) {
			keys = append(keys, k)
		}
	}
	pg, err := paginate("ListAliases", len(keys), in.Limit, in.Marker)
	if err != nil {
		return nil, &apiError{Code: "InvalidMarkerException", Message: "Invalid marker: " + in.Marker, Status: 400}
	}
	aliases := []kmsAlias{}
	for _, k := range keys[pg.start:pg.end] {
		aliases = append(aliases, kmsAlias{AliasArn: s.kmsARN(rs.name, k.alias), AliasName: k.alias,
			CreationDate: epochSeconds(k.created), LastUpdatedDate: epochSeconds(k.created), TargetKeyID: k.id})
	}
	resp := map[string]any{"Aliases": aliases, "Truncated": pg.next != ""}
	if pg.next != "" {
		resp["NextMarker"] = pg.next
	}
	return resp, nil
}
