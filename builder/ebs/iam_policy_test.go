package ebs

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/golden-ami/packer-plugin-golden/test/iam"
)

// modulePath prefixes the packages of this repository.
const modulePath = "github.com/golden-ami/packer-plugin-golden/"

// helperOnly are the repository's packages golden-ebs imports, directly or not, for helpers
// only: the AWS calls they hold are other components' and not made by a build.
var helperOnly = map[string]string{
	"internal/lifecycle": "amiselect uses its tag and glob helpers; the calls are golden-lifecycle's",
}

// codeFolders are this package's folder and those of every package of the repository it
// imports, directly or not, outside tests (except helperOnly): where every AWS call a build or
// its artifact makes is.
func codeFolders(t *testing.T) []string {
	t.Helper()
	folders := []string{"."}
	for i := 0; i < len(folders); i++ {
		files, err := filepath.Glob(filepath.Join(folders[i], "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			parsed, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range parsed.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				rest, ok := strings.CutPrefix(path, modulePath)
				if _, helper := helperOnly[rest]; !ok || helper {
					continue
				}
				if dir := filepath.Join("..", "..", rest); !slices.Contains(folders, dir) {
					folders = append(folders, dir)
				}
			}
		}
	}
	return folders
}

// sdkInput matches an aws-sdk-go-v2 input type, which every call, paginator and waiter is given
// (and every method of the API interfaces the steps call names): ec2.RunInstancesInput is
// ec2:RunInstances.
var sdkInput = regexp.MustCompile(`\b(ec2|ssm|sts|kms|iam)\.([A-Z][A-Za-z0-9]*)Input\b`)

// impliedBy are the permissions AWS checks on top of a call for what its input asks, by the SDK
// type the input then holds: an instance profile on RunInstances passes its role to EC2.
var impliedBy = map[string]string{"types.IamInstanceProfileSpecification": "iam:PassRole"}

// calledActions lists the IAM actions of the AWS calls in the non-test Go files of codeFolders.
// Generated HCL2 specs call nothing.
func calledActions(t *testing.T) []string {
	t.Helper()
	var actions []string
	for _, dir := range codeFolders(t) {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") || strings.HasSuffix(f, ".hcl2spec.go") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range sdkInput.FindAllStringSubmatch(string(src), -1) {
				actions = append(actions, m[1]+":"+m[2])
			}
			for typ, action := range impliedBy {
				if strings.Contains(string(src), typ) {
					actions = append(actions, action)
				}
			}
		}
	}
	slices.Sort(actions)
	return slices.Compact(actions)
}

// TestIAMPolicyListsExactlyTheCalls holds the policy of docs/builders/ebs.mdx to the code: every
// action a build, its cleanup, the sweep or Destroy can call is in it, and nothing else. The
// golden-ebs policy of docs/iam.md, which test/iam holds to the calls the end-to-end suites make,
// must allow the same actions.
func TestIAMPolicyListsExactlyTheCalls(t *testing.T) {
	page, err := os.ReadFile("../../docs/builders/ebs.mdx")
	if err != nil {
		t.Fatal(err)
	}
	policy, err := iam.PolicyUnder(page, "## Required IAM permissions")
	if err != nil {
		t.Fatalf("docs/builders/ebs.mdx: %v", err)
	}
	documented := policy.Actions()
	called := calledActions(t)
	if len(called) < 10 {
		t.Fatalf("found only %q in the code: is the pattern still reading it right?", called)
	}
	for _, a := range called {
		if !slices.Contains(documented, a) {
			t.Errorf("the code calls %s, which the IAM policy of docs/builders/ebs.mdx does not list", a)
		}
	}
	for _, a := range documented {
		if !slices.Contains(called, a) {
			t.Errorf("the IAM policy of docs/builders/ebs.mdx lists %s, which the code never calls", a)
		}
	}

	doc, err := os.ReadFile("../../docs/iam.md")
	if err != nil {
		t.Fatal(err)
	}
	sections, err := iam.ParseDoc(doc)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(sections, func(s iam.Section) bool { return s.Component == "golden-ebs" })
	if i < 0 {
		t.Fatal("docs/iam.md has no golden-ebs section")
	}
	if got := sections[i].Actions(); !slices.Equal(got, documented) {
		t.Errorf("docs/iam.md allows golden-ebs %q, docs/builders/ebs.mdx %q: the two must agree", got, documented)
	}
}
