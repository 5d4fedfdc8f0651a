package amiref_test

import (
	"context"
	"net"
	"testing"

	"github.com/hashicorp/hcl/v2/hcldec"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	packerrpc "github.com/hashicorp/packer-plugin-sdk/rpc"

	"github.com/golden-ami/packer-plugin-golden/internal/amiref"
)

// rpcPair connects an RPC server and client over a loopback TCP connection, as a plugin process
// and Packer core are connected.
func rpcPair(t *testing.T) (*packerrpc.PluginServer, *packerrpc.Client) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- conn
	}()
	clientConn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	serverConn, ok := <-accepted
	if !ok {
		t.Fatal("accepting the RPC connection failed")
	}
	server, err := packerrpc.NewServer(serverConn)
	if err != nil {
		t.Fatal(err)
	}
	go server.Serve()
	client, err := packerrpc.NewClient(clientConn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		client.Close()
		server.Close()
	})
	return server, client
}

// recordingPostProcessor reads its input through amiref, in the post-processor's plugin process.
type recordingPostProcessor struct {
	read    amiref.Artifact
	readErr error
	// rawGenerated is generated_data as the RPC delivered it.
	rawGenerated interface{}
}

func (p *recordingPostProcessor) ConfigSpec() hcldec.ObjectSpec  { return hcldec.ObjectSpec{} }
func (p *recordingPostProcessor) Configure(...interface{}) error { return nil }
func (p *recordingPostProcessor) PostProcess(_ context.Context, _ packersdk.Ui, a packersdk.Artifact) (packersdk.Artifact, bool, bool, error) {
	p.rawGenerated = a.State(amiref.GeneratedDataState)
	p.read, p.readErr = amiref.Read(a)
	return a, true, false, nil
}

// throughPackerRPC sends a builder's artifact the way Packer does: the builder plugin serves it,
// core holds an RPC client of it, and core hands that client to the post-processor plugin through
// the post-processor's RPC, which serves it again. The post-processor reads what arrives.
func throughPackerRPC(t *testing.T, built packersdk.Artifact) *recordingPostProcessor {
	t.Helper()
	builderSide, coreOfBuilder := rpcPair(t)
	if err := builderSide.RegisterArtifact(built); err != nil {
		t.Fatal(err)
	}
	inCore := coreOfBuilder.Artifact()

	pp := &recordingPostProcessor{}
	ppSide, coreOfPP := rpcPair(t)
	if err := ppSide.RegisterPostProcessor(pp); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := coreOfPP.PostProcessor().PostProcess(context.Background(), packersdk.TestUi(t), inCore); err != nil {
		t.Fatal(err)
	}
	if pp.readErr != nil {
		t.Fatalf("reading the artifact after two RPC hops: %v", pp.readErr)
	}
	return pp
}

// TestReadAmazonEBSArtifactThroughTwoRPCHops: an amazon-ebs artifact with ami_regions, whose
// generated_data is a map[string]interface{} in the builder, reaches the post-processor as the
// codec's map[interface{}]interface{}; Read still finds the build region, the source AMI and the
// run id, and Built picks the build region's image, not the copy.
func TestReadAmazonEBSArtifactThroughTwoRPCHops(t *testing.T) {
	built := &packersdk.MockArtifact{
		BuilderIdValue: amiref.BuilderIDAmazonEBS,
		IdValue:        "eu-west-1:ami-0aaaaaaaaaaaaaaa1,us-east-1:ami-0bbbbbbbbbbbbbbb2",
		StateValues: map[string]interface{}{
			"generated_data": map[string]interface{}{
				"BuildRegion":   "us-east-1",
				"SourceAMI":     "ami-0ccccccccccccccc3",
				"PackerRunUUID": "3f1c0e6e-2b1a-4f1e-9d7c-5a8b9c0d1e2f",
				"SourceAMITags": map[string]string{"Name": "debian-12"},
			},
		},
	}
	pp := throughPackerRPC(t, built)
	if _, plain := pp.rawGenerated.(map[string]interface{}); plain {
		t.Fatalf("generated_data arrived as map[string]interface{}; this test no longer exercises the codec (%T)", pp.rawGenerated)
	}
	got := pp.read
	if got.Component != "amazon-ebs" || len(got.Images) != 2 {
		t.Fatalf("read %+v", got)
	}
	if got.BuildRegion != "us-east-1" || got.SourceAMI != "ami-0ccccccccccccccc3" || got.RunUUID != "3f1c0e6e-2b1a-4f1e-9d7c-5a8b9c0d1e2f" {
		t.Fatalf("build region %q, source AMI %q, run %q", got.BuildRegion, got.SourceAMI, got.RunUUID)
	}
	if tags := amiref.Strings(got.Generated["SourceAMITags"]); tags["Name"] != "debian-12" {
		t.Fatalf("nested map: %#v", got.Generated["SourceAMITags"])
	}
	// The post-processor's own region is eu-west-1, where the builder only copied the image.
	built1, copies := got.Built("eu-west-1")
	if built1 != (amiref.Ref{Region: "us-east-1", ImageID: "ami-0bbbbbbbbbbbbbbb2"}) || len(copies) != 1 || copies[0].Region != "eu-west-1" {
		t.Fatalf("built %v, copies %v", built1, copies)
	}
}

// TestReadGoldenStateThroughTwoRPCHops: the golden:* state of a golden-ebs artifact, strings and
// numbers, survives the codec, and wins over generated data.
func TestReadGoldenStateThroughTwoRPCHops(t *testing.T) {
	built := &packersdk.MockArtifact{
		BuilderIdValue: amiref.BuilderIDGoldenEBS,
		IdValue:        "us-east-1:ami-0aaaaaaaaaaaaaaa1",
		StateValues: map[string]interface{}{
			"golden:source-ami":    "ami-0ddddddddddddddd4",
			"golden:harden-score":  97.5,
			"golden:harden-checks": 212,
			"generated_data":       map[string]interface{}{"SourceAMI": "ami-0ccccccccccccccc3"},
		},
	}
	got := throughPackerRPC(t, built).read
	if got.SourceAMI != "ami-0ddddddddddddddd4" {
		t.Fatalf("source AMI %q: the state should win over generated data", got.SourceAMI)
	}
	if s := got.Provenance("golden:harden-score", ""); s != "97.5" {
		t.Fatalf("score %q", s)
	}
	if s := got.Provenance("golden:harden-checks", ""); s != "212" {
		t.Fatalf("count %q", s)
	}
	if b, copies := got.Built(""); b.ImageID != "ami-0aaaaaaaaaaaaaaa1" || len(copies) != 0 {
		t.Fatalf("built %v copies %v", b, copies)
	}
}
