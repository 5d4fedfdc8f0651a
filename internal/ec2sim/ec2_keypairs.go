package ec2sim

import (
	"crypto/ed25519"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// Key pairs: CreateKeyPair generates a real key, so a client can use the private key it gets
// back (and a test target can be given the public half).

type keyPairResponse struct {
	ec2Response
	KeyName        string     `xml:"keyName"`
	KeyFingerprint string     `xml:"keyFingerprint"`
	KeyMaterial    string     `xml:"keyMaterial,omitempty"`
	KeyPairID      string     `xml:"keyPairId"`
	TagSet         *xmlTagSet `xml:"tagSet"`
}

func checkKeyName(rs *regionState, name string) error {
	if name == "" {
		return errorf("MissingParameter", "The request must contain the parameter KeyName")
	}
	if len(name) > 255 {
		return errorf("InvalidParameterValue", "Value (%s) for parameter keyName is invalid. Length exceeds maximum of 255.", name)
	}
	for _, r := range name {
		if r > 127 {
			return errorf("InvalidParameterValue", "Value (%s) for parameter keyName is invalid. Character sets beyond ASCII are not supported.", name)
		}
	}
	if _, found := rs.keyPairs[name]; found {
		return errorf("InvalidKeyPair.Duplicate", "The keypair '%s' already exists.", name)
	}
	return nil
}

func colonHex(sum []byte) string {
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02x", b)
	}
	return strings.Join(parts, ":")
}

// ed25519Fingerprint is how EC2 prints ED25519 fingerprints: base64 of the SHA-256 of the
// public key blob, the OpenSSH default.
func ed25519Fingerprint(pub ssh.PublicKey) string {
	sum := sha256.Sum256(pub.Marshal())
	return base64.StdEncoding.EncodeToString(sum[:])
}

func createKeyPair(s *Server, rs *regionState, req *request) (any, error) {
	p := req.params
	name := p.get("KeyName")
	if err := checkKeyName(rs, name); err != nil {
		return nil, err
	}
	if f := p.get("KeyFormat"); f != "" && f != "pem" {
		return nil, errorf("UnsupportedOperation", "The key format '%s' is not supported by the simulator; use pem.", f)
	}
	tags, err := tagSpecifications(p, "TagSpecification", "key-pair")
	if err != nil {
		return nil, err
	}
	keyType := p.get("KeyType")
	if keyType == "" {
		keyType = "rsa"
	}
	var material, fingerprint string
	var pub ssh.PublicKey
	switch keyType {
	case "ed25519":
		pk, sk, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("generating ed25519 key: %w", err)
		}
		block, err := ssh.MarshalPrivateKey(sk, "")
		if err != nil {
			return nil, fmt.Errorf("encoding ed25519 key: %w", err)
		}
		material = string(pem.EncodeToMemory(block))
		if pub, err = ssh.NewPublicKey(pk); err != nil {
			return nil, err
		}
		fingerprint = ed25519Fingerprint(pub)
	case "rsa":
		sk, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, fmt.Errorf("generating rsa key: %w", err)
		}
		material = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(sk)}))
		pkcs8, err := x509.MarshalPKCS8PrivateKey(sk)
		if err != nil {
			return nil, err
		}
		sum := sha1.Sum(pkcs8)
		fingerprint = colonHex(sum[:])
		if pub, err = ssh.NewPublicKey(&sk.PublicKey); err != nil {
			return nil, err
		}
	default:
		return nil, errorf("InvalidParameterValue", "Value (%s) for parameter keyType is invalid. Valid values: rsa, ed25519.", keyType)
	}
	kp := s.addKeyPair(rs, name, keyType, fingerprint, pub, tags["key-pair"])
	return &keyPairResponse{KeyName: name, KeyFingerprint: fingerprint, KeyMaterial: material, KeyPairID: kp.ID, TagSet: tagSet(kp.Tags)}, nil
}

func (s *Server) addKeyPair(rs *regionState, name, keyType, fingerprint string, pub ssh.PublicKey, tags map[string]string) *keyPair {
	kp := &keyPair{seq: s.next(), KeyPair: KeyPair{
		ID: s.newID("key"), Name: name, Type: keyType, Fingerprint: fingerprint,
		PublicKey:  strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub))) + " " + name,
		CreateTime: time.Now().UTC(), Tags: cloneTags(tags),
	}}
	rs.keyPairs[name] = kp
	return kp
}

func importKeyPair(s *Server, rs *regionState, req *request) (any, error) {
	p := req.params
	name := p.get("KeyName")
	if err := checkKeyName(rs, name); err != nil {
		return nil, err
	}
	tags, err := tagSpecifications(p, "TagSpecification", "key-pair")
	if err != nil {
		return nil, err
	}
	blob, err := base64.StdEncoding.DecodeString(p.get("PublicKeyMaterial"))
	if err != nil {
		return nil, errorf("InvalidParameterValue", "Value for parameter PublicKeyMaterial is invalid: not base64 encoded.")
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(blob)
	if err != nil {
		return nil, errorf("InvalidKey.Format", "Key is not in valid OpenSSH public key format")
	}
	var keyType, fingerprint string
	switch pub.Type() {
	case ssh.KeyAlgoED25519:
		keyType, fingerprint = "ed25519", ed25519Fingerprint(pub)
	case ssh.KeyAlgoRSA:
		cryptoPub, ok := pub.(ssh.CryptoPublicKey)
		if !ok {
			return nil, errorf("InvalidKey.Format", "Key is not in valid OpenSSH public key format")
		}
		der, err := x509.MarshalPKIXPublicKey(cryptoPub.CryptoPublicKey())
		if err != nil {
			return nil, errorf("InvalidKey.Format", "Key is not in valid OpenSSH public key format")
		}
		sum := md5.Sum(der)
		keyType, fingerprint = "rsa", colonHex(sum[:])
	default:
		return nil, errorf("InvalidKey.Format", "Key type %s is not supported; import rsa or ed25519 keys", pub.Type())
	}
	kp := s.addKeyPair(rs, name, keyType, fingerprint, pub, tags["key-pair"])
	return &keyPairResponse{KeyName: name, KeyFingerprint: fingerprint, KeyPairID: kp.ID, TagSet: tagSet(kp.Tags)}, nil
}

type deleteKeyPairResponse struct {
	ec2Response
	Return    bool   `xml:"return"`
	KeyPairID string `xml:"keyPairId,omitempty"`
}

// deleteKeyPair succeeds for a name that does not exist, as AWS does; an unknown id fails.
func deleteKeyPair(s *Server, rs *regionState, req *request) (any, error) {
	p := req.params
	name, id := p.get("KeyName"), p.get("KeyPairId")
	if name == "" && id == "" {
		return nil, errorf("MissingParameter", "The request must contain the parameter KeyName or KeyPairId")
	}
	for n, kp := range rs.keyPairs {
		if (name != "" && n == name) || (id != "" && kp.ID == id) {
			delete(rs.keyPairs, n)
			return &deleteKeyPairResponse{Return: true, KeyPairID: kp.ID}, nil
		}
	}
	if id != "" {
		return nil, errorf("InvalidKeyPair.NotFound", "The key pair '%s' does not exist", id)
	}
	return &deleteKeyPairResponse{Return: true}, nil
}

var keyPairFilters = map[string]fieldFunc[*keyPair]{
	"key-name":    func(k *keyPair) []string { return one(k.Name) },
	"key-pair-id": func(k *keyPair) []string { return one(k.ID) },
	"fingerprint": func(k *keyPair) []string { return one(k.Fingerprint) },
	"key-type":    func(k *keyPair) []string { return one(k.Type) },
}

type xmlKeyPair struct {
	KeyPairID      string     `xml:"keyPairId"`
	KeyFingerprint string     `xml:"keyFingerprint"`
	KeyName        string     `xml:"keyName"`
	KeyType        string     `xml:"keyType"`
	TagSet         *xmlTagSet `xml:"tagSet"`
	PublicKey      string     `xml:"publicKey,omitempty"`
	CreateTime     string     `xml:"createTime"`
}

type describeKeyPairsResponse struct {
	ec2Response
	Keys set[xmlKeyPair] `xml:"keySet"`
}

func describeKeyPairs(s *Server, rs *regionState, req *request) (any, error) {
	p := req.params
	names, ids := p.strings("KeyName"), p.strings("KeyPairId")
	all := sortedBySeq(rs.keyPairs)
	for _, want := range append(slices.Clone(names), ids...) {
		if !slices.ContainsFunc(all, func(k *keyPair) bool { return k.Name == want || k.ID == want }) {
			return nil, errorf("InvalidKeyPair.NotFound", "The key pair '%s' does not exist", want)
		}
	}
	list, _, err := keyPairListing.page(p, false, all, func(k *keyPair) bool {
		return len(names)+len(ids) == 0 || slices.Contains(names, k.Name) || slices.Contains(ids, k.ID)
	})
	if err != nil {
		return nil, err
	}
	includePublic := p.boolean("IncludePublicKey")
	out := &describeKeyPairsResponse{}
	for _, kp := range list {
		x := xmlKeyPair{KeyPairID: kp.ID, KeyFingerprint: kp.Fingerprint, KeyName: kp.Name, KeyType: kp.Type,
			TagSet: tagSet(kp.Tags), CreateTime: formatTime(kp.CreateTime)}
		if includePublic {
			x.PublicKey = kp.PublicKey
		}
		out.Keys.Items = append(out.Keys.Items, x)
	}
	return out, nil
}

var keyPairListing = listing[*keyPair]{action: "DescribeKeyPairs", fields: keyPairFilters,
	tags: func(k *keyPair) map[string]string { return k.Tags }}
