package ec2sim

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The instance metadata service of the lab machines: one HTTP server per simulator, where the
// host sends each machine's requests to http://169.254.169.254/. It tells instances apart by
// the request's source address (the machine's own), and answers as IMDS does: IMDSv2 session
// tokens, HttpTokens and HttpEndpoint as the instance's metadata options say at the moment of
// the request, and the meta-data, user-data and dynamic trees cloud-init's Ec2 data source
// crawls.

type imdsState struct {
	mu     sync.Mutex
	tokens map[string]imdsToken
	srv    *http.Server
	ln     net.Listener
}

type imdsToken struct {
	instanceID string
	expires    time.Time
}

const (
	imdsTokenHeader    = "X-Aws-Ec2-Metadata-Token"
	imdsTokenTTLHeader = "X-Aws-Ec2-Metadata-Token-Ttl-Seconds"
	imdsMaxTokenTTL    = 21600
)

// imdsVersions are the API versions IMDS lists at its root; every one of them answers the
// same trees here. cloud-init asks for 2021-03-23, 2018-09-24, 2016-09-02 and 2009-04-04.
var imdsVersions = []string{"1.0", "2007-01-19", "2007-03-01", "2007-08-29", "2007-10-10", "2007-12-15",
	"2008-02-01", "2008-09-01", "2009-04-04", "2011-01-01", "2011-05-01", "2012-01-12", "2014-02-25",
	"2014-11-05", "2015-10-20", "2016-04-19", "2016-06-30", "2016-09-02", "2018-03-28", "2018-08-17",
	"2018-09-24", "2019-10-01", "2020-10-27", "2021-01-03", "2021-03-23", "2021-07-15", "2022-09-24", "latest"}

func (s *Server) startIMDS() error {
	if s.lab.host == nil {
		return nil
	}
	addr := s.opts.IMDSListen
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening for the instance metadata service on %s: %w", addr, err)
	}
	s.lab.imds.ln = ln
	s.lab.imds.srv = &http.Server{Handler: http.HandlerFunc(s.serveIMDS), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.lab.imds.srv.Serve(ln) }()
	return nil
}

func (s *Server) stopIMDS(ctx context.Context) {
	if s.lab.imds.srv != nil {
		if err := s.lab.imds.srv.Shutdown(ctx); err != nil {
			s.lab.imds.srv.Close()
		}
	}
}

// IMDSAddress is the host:port of the instance metadata service ("" unless the simulator has
// machines and has been started): MachineSpec.IMDSAddress.
func (s *Server) IMDSAddress() string {
	if s.lab.imds.ln == nil {
		return ""
	}
	return s.lab.imds.ln.Addr().String()
}

// imdsView is what the metadata service knows of one instance, copied under the state lock.
type imdsView struct {
	Instance
	region, account, mac, publicKey string
	groupNames                      []string
	subnetCIDR, vpcCIDR             string
}

// instanceAt finds the live instance whose machine has the address.
func (s *Server) instanceAt(ip string) (imdsView, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rs := range s.regions {
		for _, in := range rs.instances {
			run := in.machine
			if run == nil || run.address != ip {
				continue
			}
			switch in.State {
			case "pending", "running", "stopping":
			default:
				continue
			}
			v := imdsView{Instance: in.clone(), region: rs.name, account: s.opts.AccountID, mac: run.mac, publicKey: run.publicKey}
			for _, g := range in.SecurityGroupIDs {
				if sg, ok := rs.groups[g]; ok {
					v.groupNames = append(v.groupNames, sg.Name)
				}
			}
			if sn, ok := rs.subnets[in.SubnetID]; ok {
				v.subnetCIDR = sn.cidr
			}
			if vpc, ok := rs.vpcs[in.VpcID]; ok {
				v.vpcCIDR = vpc.cidr
			}
			return v, true
		}
	}
	return imdsView{}, false
}

func imdsError(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"iso-8859-1\"?>\n<html><head><title>%d - %s</title></head><body><h1>%d - %s</h1></body></html>\n",
		status, http.StatusText(status), status, http.StatusText(status))
}

func (s *Server) serveIMDS(w http.ResponseWriter, r *http.Request) {
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	view, found := s.instanceAt(ip)
	if !found {
		s.logf("IMDS %s %s from %s: no instance has that address", r.Method, r.URL.Path, ip)
		imdsError(w, http.StatusNotFound)
		return
	}
	w.Header().Set("Server", "EC2ws")
	if view.MetadataOptions.HTTPEndpoint == "disabled" {
		imdsError(w, http.StatusForbidden)
		return
	}
	if r.URL.Path == "/latest/api/token" {
		s.imdsToken(w, r, view.ID)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		imdsError(w, http.StatusMethodNotAllowed)
		return
	}
	if token := r.Header.Get(imdsTokenHeader); token != "" {
		if !s.validToken(token, view.ID) {
			imdsError(w, http.StatusUnauthorized)
			return
		}
	} else if view.MetadataOptions.HTTPTokens == "required" {
		imdsError(w, http.StatusUnauthorized)
		return
	}
	body, ok := view.answer(r.URL.Path)
	if !ok {
		imdsError(w, http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(body)
	}
}

// imdsToken answers PUT /latest/api/token: a session token for 1 to 21600 seconds, refused to
// a request that carries X-Forwarded-For (a proxy relaying it).
func (s *Server) imdsToken(w http.ResponseWriter, r *http.Request, instanceID string) {
	if r.Method != http.MethodPut {
		w.Header().Set("Allow", "PUT")
		imdsError(w, http.StatusMethodNotAllowed)
		return
	}
	if r.Header.Get("X-Forwarded-For") != "" {
		imdsError(w, http.StatusForbidden)
		return
	}
	ttl, err := strconv.Atoi(r.Header.Get(imdsTokenTTLHeader))
	if err != nil || ttl < 1 || ttl > imdsMaxTokenTTL {
		imdsError(w, http.StatusBadRequest)
		return
	}
	b := make([]byte, 42)
	if _, err := rand.Read(b); err != nil {
		imdsError(w, http.StatusInternalServerError)
		return
	}
	token := base64.StdEncoding.EncodeToString(b)
	now := time.Now()
	st := &s.lab.imds
	st.mu.Lock()
	for t, v := range st.tokens {
		if now.After(v.expires) {
			delete(st.tokens, t)
		}
	}
	st.tokens[token] = imdsToken{instanceID: instanceID, expires: now.Add(time.Duration(ttl) * time.Second)}
	st.mu.Unlock()
	w.Header().Set(imdsTokenTTLHeader, strconv.Itoa(ttl))
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte(token))
}

// validToken: a token is good until it expires, and only on the instance it was made for.
func (s *Server) validToken(token, instanceID string) bool {
	st := &s.lab.imds
	st.mu.Lock()
	defer st.mu.Unlock()
	t, ok := st.tokens[token]
	return ok && t.instanceID == instanceID && time.Now().Before(t.expires)
}

// imdsDir is a directory of the metadata tree. Its listing names sub-directories with a
// trailing slash, except where listing is set (public-keys/ lists "0=name").
type imdsDir struct {
	entries map[string]any // string leaves and *imdsDir directories
	listing string
}

func (d *imdsDir) list() string {
	if d.listing != "" {
		return d.listing
	}
	names := make([]string, 0, len(d.entries))
	for name, e := range d.entries {
		if _, dir := e.(*imdsDir); dir {
			name += "/"
		}
		names = append(names, name)
	}
	sort.Strings(names)
	return strings.Join(names, "\n")
}

func dir(entries map[string]any) *imdsDir { return &imdsDir{entries: entries} }

// answer resolves a request path: /, /<version>/, user-data, meta-data/..., dynamic/...
func (v imdsView) answer(path string) ([]byte, bool) {
	path = strings.TrimPrefix(path, "/")
	if path == "" {
		return []byte(strings.Join(imdsVersions, "\n")), true
	}
	version, rest, _ := strings.Cut(path, "/")
	if !slices.Contains(imdsVersions, version) {
		return nil, false
	}
	userData, hasUserData := v.userData()
	root := dir(map[string]any{"meta-data": v.metaData(), "dynamic": v.dynamic()})
	if hasUserData {
		root.entries["user-data"] = string(userData)
	}
	var node any = root
	for _, seg := range strings.Split(strings.TrimSuffix(rest, "/"), "/") {
		if seg == "" {
			continue
		}
		d, isDir := node.(*imdsDir)
		if !isDir {
			return nil, false
		}
		if node, isDir = d.entries[seg]; !isDir {
			return nil, false
		}
	}
	switch n := node.(type) {
	case *imdsDir:
		return []byte(n.list()), true
	case string:
		return []byte(n), true
	}
	return nil, false
}

// userData is the launch's user data, decoded from the base64 RunInstances carried it in.
func (v imdsView) userData() ([]byte, bool) {
	if v.UserData == "" {
		return nil, false
	}
	b, err := base64.StdEncoding.DecodeString(v.UserData)
	if err != nil {
		return []byte(v.UserData), true
	}
	return b, true
}

func (v imdsView) metaData() *imdsDir {
	hostname := privateDNSName(v.region, v.PrivateIP)
	publicHostname := publicDNSName(v.region, v.PublicIP)
	groups := strings.Join(v.groupNames, "\n")
	md := map[string]any{
		"ami-id":               v.ImageID,
		"ami-launch-index":     "0",
		"ami-manifest-path":    "(unknown)",
		"block-device-mapping": dir(map[string]any{"ami": v.RootDeviceName, "root": v.RootDeviceName}),
		"hostname":             hostname,
		"instance-action":      "none",
		"instance-id":          v.ID,
		"instance-life-cycle":  "on-demand",
		"instance-type":        v.InstanceType,
		"local-hostname":       hostname,
		"local-ipv4":           v.PrivateIP,
		"mac":                  v.mac,
		"placement": dir(map[string]any{
			"availability-zone":    v.AvailabilityZone,
			"availability-zone-id": zoneID(v.AvailabilityZone),
			"region":               v.region,
		}),
		"profile":         "default-hvm",
		"reservation-id":  v.ReservationID,
		"security-groups": groups,
	}
	nic := map[string]any{
		"device-number":          "0",
		"interface-id":           stableID("eni", v.ID),
		"local-hostname":         hostname,
		"local-ipv4s":            v.PrivateIP,
		"mac":                    v.mac,
		"owner-id":               v.account,
		"security-group-ids":     strings.Join(v.SecurityGroupIDs, "\n"),
		"security-groups":        groups,
		"subnet-id":              v.SubnetID,
		"subnet-ipv4-cidr-block": v.subnetCIDR,
		"vpc-id":                 v.VpcID,
		"vpc-ipv4-cidr-block":    v.vpcCIDR,
		"vpc-ipv4-cidr-blocks":   v.vpcCIDR,
	}
	if v.PublicIP != "" {
		md["public-hostname"] = publicHostname
		md["public-ipv4"] = v.PublicIP
		nic["public-hostname"] = publicHostname
		nic["public-ipv4s"] = v.PublicIP
		nic["ipv4-associations"] = dir(map[string]any{v.PublicIP: v.PrivateIP})
	}
	md["network"] = dir(map[string]any{"interfaces": dir(map[string]any{"macs": dir(map[string]any{v.mac: dir(nic)})})})
	if v.publicKey != "" {
		md["public-keys"] = &imdsDir{
			entries: map[string]any{"0": dir(map[string]any{"openssh-key": v.publicKey + "\n"})},
			listing: "0=" + v.KeyName,
		}
	}
	if v.MetadataOptions.InstanceMetadataTags == "enabled" {
		tags := map[string]any{}
		for k, val := range v.Tags {
			tags[k] = val
		}
		md["tags"] = dir(map[string]any{"instance": dir(tags)})
	}
	return dir(md)
}

// dynamic holds the instance identity document (unsigned: the simulator has no key of AWS's to
// sign it with, so only the document is listed).
func (v imdsView) dynamic() *imdsDir {
	doc := map[string]any{
		"accountId":               v.account,
		"architecture":            v.Architecture,
		"availabilityZone":        v.AvailabilityZone,
		"billingProducts":         nil,
		"devpayProductCodes":      nil,
		"marketplaceProductCodes": nil,
		"imageId":                 v.ImageID,
		"instanceId":              v.ID,
		"instanceType":            v.InstanceType,
		"kernelId":                nil,
		"pendingTime":             v.LaunchTime.UTC().Format(time.RFC3339),
		"privateIp":               v.PrivateIP,
		"ramdiskId":               nil,
		"region":                  v.region,
		"version":                 "2017-09-30",
	}
	b, _ := json.MarshalIndent(doc, "", "  ")
	return dir(map[string]any{"instance-identity": dir(map[string]any{"document": string(b)})})
}
