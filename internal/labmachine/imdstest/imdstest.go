// Package imdstest is a minimal EC2 instance metadata service for tests of lab machines without the
// simulator: the IMDSv2 token and the meta-data tree cloud-init's Ec2 data source crawls (instance
// id, key, addresses, MAC, placement) and the instance's user data. Like httptest for HTTP, it is for tests only;
// the simulator's own metadata service (internal/ec2sim) is the one that follows AWS in full.
package imdstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// Server is the smallest metadata service cloud-init's Ec2 data source boots from: the IMDSv2
// token, the meta-data tree it crawls (instance id, key, addresses, placement) and the user data.
// It tells machines apart by their source address, as the simulator's does.
type Server struct {
	// Addr is the host:port to give lab machines as their metadata address.
	Addr string

	mu        sync.Mutex
	instances map[string]Instance // by the machine's address
	requests  map[string]int      // GETs per machine address
}

// Instance is what the service tells one machine.
type Instance struct {
	ID, PublicKey, Region, MAC string
	// UserData is served at user-data when not empty (a #cloud-config document, a script...);
	// without it the path answers 404, as EC2's does for an instance launched without user data.
	UserData string
}

// Start serves on a loopback port until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Addr: l.Addr().String(), instances: map[string]Instance{}, requests: map[string]int{}}
	srv := &http.Server{Handler: s}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	return s
}

// Add serves inst to the machine whose address is ip.
func (s *Server) Add(ip string, inst Instance) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.instances[ip] = inst
}

// Requests counts the requests that came from ip.
func (s *Server) Requests(ip string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[ip]
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	s.mu.Lock()
	inst, ok := s.instances[ip]
	s.requests[ip]++
	s.mu.Unlock()
	if !ok {
		http.Error(w, "no instance at "+ip, http.StatusNotFound)
		return
	}
	if r.Method == http.MethodPut && r.URL.Path == "/latest/api/token" {
		b := make([]byte, 16)
		rand.Read(b)
		w.Write([]byte(hex.EncodeToString(b)))
		return
	}
	if r.Method != http.MethodGet {
		http.Error(w, "method", http.StatusMethodNotAllowed)
		return
	}
	// /VERSION/meta-data/..., /VERSION/dynamic/..., /VERSION/user-data
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 2)
	if len(parts) < 2 {
		w.Write([]byte("latest\n"))
		return
	}
	nic := "meta-data/network/interfaces/macs/" + inst.MAC + "/"
	hostname := "ip-" + strings.ReplaceAll(ip, ".", "-") + "." + inst.Region + ".compute.internal"
	tree := map[string]string{
		"meta-data/":                            "ami-id\nhostname\ninstance-id\ninstance-type\nlocal-hostname\nlocal-ipv4\nmac\nnetwork/\nplacement/\npublic-keys/\n",
		"meta-data/mac":                         inst.MAC,
		"meta-data/network/":                    "interfaces/\n",
		"meta-data/network/interfaces/":         "macs/\n",
		"meta-data/network/interfaces/macs/":    inst.MAC + "/\n",
		nic:                                     "device-number\nlocal-ipv4s\nmac\nsubnet-ipv4-cidr-block\n",
		nic + "device-number":                   "0",
		nic + "local-ipv4s":                     ip,
		nic + "mac":                             inst.MAC,
		nic + "subnet-ipv4-cidr-block":          subnet(ip),
		"meta-data/ami-id":                      "ami-0123456789abcdef0",
		"meta-data/hostname":                    hostname,
		"meta-data/local-hostname":              hostname,
		"meta-data/instance-id":                 inst.ID,
		"meta-data/instance-type":               "t3.micro",
		"meta-data/local-ipv4":                  ip,
		"meta-data/placement/":                  "availability-zone\nregion\n",
		"meta-data/placement/availability-zone": inst.Region + "a",
		"meta-data/placement/region":            inst.Region,
		"meta-data/public-keys/":                "0=test-key",
		"meta-data/public-keys/0/":              "openssh-key",
		"meta-data/public-keys/0/openssh-key":   inst.PublicKey + "\n",
		// cloud-init crawls the dynamic tree where it identifies EC2.
		"dynamic/":                   "instance-identity/\n",
		"dynamic/instance-identity/": "document\n",
	}
	if parts[1] == "dynamic/instance-identity/document" {
		json.NewEncoder(w).Encode(map[string]string{
			"instanceId": inst.ID, "region": inst.Region, "availabilityZone": inst.Region + "a",
			"instanceType": "t3.micro", "imageId": "ami-0123456789abcdef0", "privateIp": ip,
			"accountId": "123456789012", "architecture": "x86_64",
		})
		return
	}
	if inst.UserData != "" {
		tree["user-data"] = inst.UserData
	}
	body, ok := tree[parts[1]]
	if !ok {
		// A directory asked for without its trailing slash lists it too, as IMDS does.
		body, ok = tree[parts[1]+"/"]
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Write([]byte(body))
}

// subnet is the /30 of a machine's link.
func subnet(ip string) string {
	a := net.ParseIP(ip).To4()
	return net.IPv4(a[0], a[1], a[2], a[3]&^3).String() + "/30"
}

// InstanceID is the id the service gives the machine at ip ("" for none).
func (s *Server) InstanceID(ip string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.instances[ip].ID
}
