package ec2sim_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"golang.org/x/crypto/ssh"

	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
)

// imdsFrom talks to the metadata service from a machine's address, as the machine's own
// requests arrive.
type imdsFrom struct {
	t      *testing.T
	url    string
	client *http.Client
	token  string
}

func newIMDSFrom(t *testing.T, s *ec2sim.Server, source string) *imdsFrom {
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(source)}}
	return &imdsFrom{t: t, url: "http://" + s.IMDSAddress(), client: &http.Client{Timeout: 5 * time.Second,
		Transport: &http.Transport{DialContext: dialer.DialContext, DisableKeepAlives: true}}}
}

func (c *imdsFrom) do(method, path string, header map[string]string) (int, string, http.Header) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.url+path, nil)
	must(c.t, err)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.client.Do(req)
	must(c.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	must(c.t, err)
	return resp.StatusCode, string(body), resp.Header
}

// get is a GET with the session token, once putToken has taken one.
func (c *imdsFrom) get(path string) (int, string) {
	c.t.Helper()
	h := map[string]string{}
	if c.token != "" {
		h["X-aws-ec2-metadata-token"] = c.token
	}
	code, body, _ := c.do(http.MethodGet, path, h)
	return code, body
}

func (c *imdsFrom) mustGet(path string) string {
	c.t.Helper()
	code, body := c.get(path)
	if code != http.StatusOK {
		c.t.Fatalf("GET %s: %d %s", path, code, body)
	}
	return body
}

func (c *imdsFrom) putToken(ttl string) int {
	c.t.Helper()
	h := map[string]string{}
	if ttl != "" {
		h["X-aws-ec2-metadata-token-ttl-seconds"] = ttl
	}
	code, body, header := c.do(http.MethodPut, "/latest/api/token", h)
	if code == http.StatusOK {
		c.token = body
		if header.Get("X-Aws-Ec2-Metadata-Token-Ttl-Seconds") != ttl {
			c.t.Errorf("token TTL header %q, asked for %s", header.Get("X-Aws-Ec2-Metadata-Token-Ttl-Seconds"), ttl)
		}
	}
	return code
}

func TestMetadataService(t *testing.T) {
	host := newFakeHost("ubuntu-24.04")
	s := startMachineSim(t, host)
	const region = "eu-central-1"
	client := newEC2(s, region)
	created, err := client.CreateKeyPair(ctx(t), &ec2.CreateKeyPairInput{KeyName: aws.String("build"), KeyType: types.KeyTypeEd25519})
	must(t, err)
	userData := "#cloud-config\nruncmd: [touch /ok]\n"
	ami := paramValue(t, s, region, nobleParam)
	id := aws.ToString(launch(t, client, &ec2.RunInstancesInput{ImageId: aws.String(ami), KeyName: aws.String("build"),
		UserData:        aws.String(base64.StdEncoding.EncodeToString([]byte(userData))),
		MetadataOptions: &types.InstanceMetadataOptionsRequest{HttpTokens: types.HttpTokensStateRequired, InstanceMetadataTags: types.InstanceMetadataTagsStateEnabled},
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance,
			Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("builder")}}}},
	}).InstanceId)
	in := waitFor(t, client, id, "running")
	m := host.machine(t, id)
	c := newIMDSFrom(t, s, m.Address())

	// IMDSv2: without a token nothing answers while tokens are required; the token's TTL is
	// checked as IMDS checks it.
	if code, _ := c.get("/latest/meta-data/instance-id"); code != http.StatusUnauthorized {
		t.Errorf("token-less GET with HttpTokens=required: %d, want 401", code)
	}
	for _, ttl := range []string{"", "0", "21601", "ten"} {
		if code := c.putToken(ttl); code != http.StatusBadRequest {
			t.Errorf("token PUT with TTL %q: %d, want 400", ttl, code)
		}
	}
	if code, _, _ := c.do(http.MethodPut, "/latest/api/token", map[string]string{"X-aws-ec2-metadata-token-ttl-seconds": "60", "X-Forwarded-For": "10.1.1.1"}); code != http.StatusForbidden {
		t.Errorf("token PUT through a proxy: %d, want 403", code)
	}
	if code := c.putToken("21600"); code != http.StatusOK {
		t.Fatalf("token PUT: %d", code)
	}
	for path, want := range map[string]string{
		"/latest/meta-data/instance-id":                                         id,
		"/latest/meta-data/ami-id":                                              ami,
		"/latest/meta-data/instance-type":                                       "t3.micro",
		"/latest/meta-data/local-ipv4":                                          m.Address(),
		"/latest/meta-data/public-ipv4":                                         m.Address(),
		"/latest/meta-data/local-hostname":                                      aws.ToString(in.PrivateDnsName),
		"/latest/meta-data/hostname":                                            aws.ToString(in.PrivateDnsName),
		"/latest/meta-data/public-hostname":                                     aws.ToString(in.PublicDnsName),
		"/latest/meta-data/mac":                                                 m.MAC(),
		"/latest/meta-data/placement/region":                                    region,
		"/latest/meta-data/placement/availability-zone":                         aws.ToString(in.Placement.AvailabilityZone),
		"/latest/meta-data/public-keys/":                                        "0=build",
		"/latest/meta-data/public-keys/0/":                                      "openssh-key",
		"/latest/meta-data/tags/instance/Name":                                  "builder",
		"/latest/user-data":                                                     userData,
		"/2021-03-23/meta-data/instance-id":                                     id,
		"/2009-04-04/meta-data/placement/region":                                region,
		"/latest/meta-data/network/interfaces/macs/":                            m.MAC() + "/",
		"/latest/meta-data/block-device-mapping/root":                           "/dev/sda1",
		"/latest/dynamic/instance-identity/":                                    "document",
		"/latest/meta-data/network/interfaces/macs/" + m.MAC() + "/local-ipv4s": m.Address(),
	} {
		if got := c.mustGet(path); got != want {
			t.Errorf("GET %s = %q, want %q", path, got, want)
		}
	}
	listing := c.mustGet("/latest/meta-data/")
	for _, entry := range []string{"ami-id", "instance-id", "local-ipv4", "public-keys/", "placement/", "network/", "mac"} {
		if !strings.Contains("\n"+listing+"\n", "\n"+entry+"\n") {
			t.Errorf("meta-data/ listing lacks %s:\n%s", entry, listing)
		}
	}
	if root := c.mustGet("/"); !strings.Contains(root, "2021-03-23") || !strings.HasSuffix(root, "latest") {
		t.Errorf("version listing:\n%s", root)
	}
	if code, _ := c.get("/1999-01-01/meta-data/instance-id"); code != http.StatusNotFound {
		t.Errorf("an unknown version: %d, want 404", code)
	}

	// The key is the key pair's, and it is the public half of the private key CreateKeyPair gave.
	key := c.mustGet("/latest/meta-data/public-keys/0/openssh-key")
	pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(key))
	must(t, err)
	signer, err := ssh.ParsePrivateKey([]byte(aws.ToString(created.KeyMaterial)))
	must(t, err)
	if string(pub.Marshal()) != string(signer.PublicKey().Marshal()) {
		t.Error("the metadata service's openssh-key is not the public half of CreateKeyPair's private key")
	}

	var doc map[string]any
	must(t, json.Unmarshal([]byte(c.mustGet("/latest/dynamic/instance-identity/document")), &doc))
	if doc["instanceId"] != id || doc["region"] != region || doc["imageId"] != ami || doc["privateIp"] != m.Address() {
		t.Errorf("identity document %v", doc)
	}

	// Everything listed answers, the way cloud-init's crawl reads the trees.
	crawl(t, c, "/2021-03-23/meta-data/")
	crawl(t, c, "/2021-03-23/dynamic/instance-identity/")

	// ModifyInstanceMetadataOptions applies from the next request on, and DescribeInstances says so.
	c.token = ""
	_, err = client.ModifyInstanceMetadataOptions(ctx(t), &ec2.ModifyInstanceMetadataOptionsInput{InstanceId: aws.String(id), HttpTokens: types.HttpTokensStateOptional})
	must(t, err)
	if got := c.mustGet("/latest/meta-data/instance-id"); got != id {
		t.Errorf("IMDSv1 GET with HttpTokens=optional: %q", got)
	}
	if mo := describeInstance(t, client, id).MetadataOptions; mo.HttpTokens != types.HttpTokensStateOptional {
		t.Errorf("DescribeInstances reports HttpTokens %s after the change", mo.HttpTokens)
	}
	c.token = "not-a-token"
	if code, _ := c.get("/latest/meta-data/instance-id"); code != http.StatusUnauthorized {
		t.Errorf("GET with an invalid token: %d, want 401 even with tokens optional", code)
	}
	_, err = client.ModifyInstanceMetadataOptions(ctx(t), &ec2.ModifyInstanceMetadataOptionsInput{InstanceId: aws.String(id), HttpEndpoint: types.InstanceMetadataEndpointStateDisabled})
	must(t, err)
	c.token = ""
	if code, _ := c.get("/latest/meta-data/instance-id"); code != http.StatusForbidden {
		t.Errorf("GET with HttpEndpoint=disabled: %d, want 403", code)
	}
	if code := c.putToken("60"); code != http.StatusForbidden {
		t.Errorf("token PUT with HttpEndpoint=disabled: %d, want 403", code)
	}
	_, err = client.ModifyInstanceMetadataOptions(ctx(t), &ec2.ModifyInstanceMetadataOptionsInput{InstanceId: aws.String(id), HttpTokens: "sometimes"})
	wantCode(t, err, "InvalidParameterValue")
	_, err = client.ModifyInstanceMetadataOptions(ctx(t), &ec2.ModifyInstanceMetadataOptionsInput{InstanceId: aws.String(id), HttpPutResponseHopLimit: aws.Int32(65)})
	wantCode(t, err, "InvalidParameterValue")
}

// crawl reads a tree as cloud-init's metadata materializer does: every listed directory and
// leaf must answer 200.
func crawl(t *testing.T, c *imdsFrom, dir string) {
	t.Helper()
	for _, line := range strings.Split(c.mustGet(dir), "\n") {
		switch name, _, keyIndex := strings.Cut(line, "="); {
		case keyIndex:
			c.mustGet(dir + name + "/openssh-key")
		case strings.HasSuffix(line, "/"):
			crawl(t, c, dir+line)
		default:
			c.mustGet(dir + line)
		}
	}
}

func TestMetadataServiceTellsMachinesApart(t *testing.T) {
	host := newFakeHost("debian-12")
	s := startMachineSim(t, host)
	const region = "us-east-1"
	client := newEC2(s, region)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	must(t, err)
	rsaPub, err := ssh.NewPublicKey(&rsaKey.PublicKey)
	must(t, err)
	_, err = client.ImportKeyPair(ctx(t), &ec2.ImportKeyPairInput{KeyName: aws.String("imported"), PublicKeyMaterial: ssh.MarshalAuthorizedKey(rsaPub)})
	must(t, err)
	ami := paramValue(t, s, region, debian12Param)
	a := aws.ToString(launch(t, client, &ec2.RunInstancesInput{ImageId: aws.String(ami), KeyName: aws.String("imported")}).InstanceId)
	b := aws.ToString(launch(t, client, &ec2.RunInstancesInput{ImageId: aws.String(ami)}).InstanceId)
	waitFor(t, client, a, "running")
	waitFor(t, client, b, "running")
	ca, cb := newIMDSFrom(t, s, host.machine(t, a).Address()), newIMDSFrom(t, s, host.machine(t, b).Address())
	if ca.putToken("60") != http.StatusOK || cb.putToken("60") != http.StatusOK {
		t.Fatal("token PUT failed")
	}
	if ca.mustGet("/latest/meta-data/instance-id") != a || cb.mustGet("/latest/meta-data/instance-id") != b {
		t.Error("the metadata service mixed up the machines")
	}
	key := ca.mustGet("/latest/meta-data/public-keys/0/openssh-key")
	if pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(key)); err != nil || string(pub.Marshal()) != string(rsaPub.Marshal()) {
		t.Errorf("ImportKeyPair's key through IMDS: %q (%v)", key, err)
	}
	if code, _ := cb.get("/latest/meta-data/public-keys/"); code != http.StatusNotFound {
		t.Errorf("public-keys/ of an instance without a key pair: %d, want 404", code)
	}
	if code, _ := cb.get("/latest/user-data"); code != http.StatusNotFound {
		t.Errorf("user-data of an instance launched without: %d, want 404", code)
	}
	// A token is only good on the instance that asked for it.
	ca.token, cb.token = cb.token, ca.token
	if code, _ := ca.get("/latest/meta-data/instance-id"); code != http.StatusUnauthorized {
		t.Errorf("another instance's token: %d, want 401", code)
	}
	// Stopped machines and addresses nobody has get nothing.
	if code, _, _ := newIMDSFrom(t, s, "127.0.0.99").do(http.MethodGet, "/latest/meta-data/", nil); code != http.StatusNotFound {
		t.Errorf("a request from an address no instance has: %d", code)
	}
	// ed25519 keys made by CreateKeyPair are kept in OpenSSH form too.
	out, err := client.CreateKeyPair(ctx(t), &ec2.CreateKeyPairInput{KeyName: aws.String("ed"), KeyType: types.KeyTypeEd25519})
	must(t, err)
	keys, err := client.DescribeKeyPairs(ctx(t), &ec2.DescribeKeyPairsInput{KeyNames: []string{"ed"}, IncludePublicKey: aws.Bool(true)})
	must(t, err)
	pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(aws.ToString(keys.KeyPairs[0].PublicKey)))
	must(t, err)
	signer, err := ssh.ParsePrivateKey([]byte(aws.ToString(out.KeyMaterial)))
	must(t, err)
	if _, isEd := signer.PublicKey().(ssh.CryptoPublicKey).CryptoPublicKey().(ed25519.PublicKey); !isEd || string(pub.Marshal()) != string(signer.PublicKey().Marshal()) {
		t.Error("CreateKeyPair's ed25519 public key is not kept in OpenSSH form")
	}
}
