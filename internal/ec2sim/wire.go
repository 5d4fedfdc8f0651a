package ec2sim

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

const (
	ec2Namespace         = "http://ec2.amazonaws.com/doc/2016-11-15/"
	autoScalingNamespace = "http://autoscaling.amazonaws.com/doc/2011-01-01/"
	stsNamespace         = "https://sts.amazonaws.com/doc/2011-06-15/"
	maxBody              = 8 << 20
)

// apiError is an error as AWS reports it: a code the SDK exposes as ErrorCode(), a message,
// and the HTTP status that decides whether the SDK retries.
type apiError struct {
	Code    string
	Message string
	Status  int
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

// errorf builds an apiError whose HTTP status follows from its code.
func errorf(code, format string, args ...any) *apiError {
	return &apiError{Code: code, Message: fmt.Sprintf(format, args...), Status: statusForCode(code)}
}

// statusForCode is the HTTP status AWS uses for an error code: throttling of EC2 and server
// faults are 5xx (the SDK retries them), client errors are 400.
func statusForCode(code string) int {
	switch code {
	case "RequestLimitExceeded", "Unavailable", "ServiceUnavailable", "InsufficientInstanceCapacity":
		return http.StatusServiceUnavailable
	case "InternalError", "InternalFailure", "InternalServerError", "ServerInternal", "KMSInternalException":
		return http.StatusInternalServerError
	case "AuthFailure", "MissingAuthenticationToken":
		return http.StatusUnauthorized
	case "UnauthorizedOperation", "AccessDenied", "AccessDeniedException", "SignatureDoesNotMatch":
		return http.StatusForbidden
	}
	return http.StatusBadRequest
}

func internalErrorCode(service string) string {
	switch service {
	case "ssm":
		return "InternalServerError"
	case "kms":
		return "KMSInternalException"
	case "ec2":
		return "InternalError"
	}
	return "InternalFailure"
}

func readBody(hr *http.Request) ([]byte, error) {
	if hr.Body == nil {
		return nil, nil
	}
	defer hr.Body.Close()
	return io.ReadAll(io.LimitReader(hr.Body, maxBody))
}

// ec2Response is embedded in every EC2 response so the request id comes first, as AWS sends it.
type ec2Response struct {
	RequestID string `xml:"requestId"`
}

func (r *ec2Response) setRequestID(id string) { r.RequestID = id }

type requestIDSetter interface{ setRequestID(string) }

// writeResult serialises a handler's result in the protocol of the request's service.
func writeResult(w http.ResponseWriter, req *request, out any) {
	switch req.service {
	case "ec2":
		if r, ok := out.(requestIDSetter); ok {
			r.setRequestID(req.requestID)
		}
		writeXML(w, http.StatusOK, req.requestID, out, xml.StartElement{
			Name: xml.Name{Local: req.action + "Response"},
			Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: ec2Namespace}},
		})
	case "ssm", "kms":
		if out == nil {
			out = struct{}{}
		}
		b, err := json.Marshal(out)
		if err != nil {
			writeError(w, req, errorf("InternalServerError", "encoding response: %v", err))
			return
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("X-Amzn-Requestid", req.requestID)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(b)
	default:
		ns := autoScalingNamespace
		if req.service == "sts" {
			ns = stsNamespace
		}
		doc := queryEnvelope{
			XMLName:  xml.Name{Local: req.action + "Response"},
			Xmlns:    ns,
			Result:   queryResult{XMLName: xml.Name{Local: req.action + "Result"}, Body: out},
			Metadata: responseMetadata{RequestID: req.requestID},
		}
		writeXML(w, http.StatusOK, req.requestID, doc, xml.StartElement{})
	}
}

// queryEnvelope is the AWS Query protocol's response wrapper (Auto Scaling, STS).
type queryEnvelope struct {
	XMLName  xml.Name
	Xmlns    string `xml:"xmlns,attr"`
	Result   queryResult
	Metadata responseMetadata `xml:"ResponseMetadata"`
}

type queryResult struct {
	XMLName xml.Name
	Body    any
}

// MarshalXML writes the result element with the body's fields inside it, not the body's own
// element: handlers return plain structs without an XMLName.
func (q queryResult) MarshalXML(e *xml.Encoder, _ xml.StartElement) error {
	start := xml.StartElement{Name: q.XMLName}
	if q.Body == nil {
		if err := e.EncodeToken(start); err != nil {
			return err
		}
		return e.EncodeToken(start.End())
	}
	return e.EncodeElement(q.Body, start)
}

type responseMetadata struct {
	RequestID string `xml:"RequestId"`
}

func writeXML(w http.ResponseWriter, status int, requestID string, v any, start xml.StartElement) {
	var b strings.Builder
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	var err error
	if start.Name.Local != "" {
		err = enc.EncodeElement(v, start)
	} else {
		err = enc.Encode(v)
	}
	if err == nil {
		err = enc.Flush()
	}
	if err != nil {
		status = http.StatusInternalServerError
		b.Reset()
		b.WriteString(xml.Header)
		fmt.Fprintf(&b, "<Response><Errors><Error><Code>InternalError</Code><Message>%s</Message></Error></Errors><RequestID>%s</RequestID></Response>",
			xmlEscape(err.Error()), requestID)
	}
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.Header().Set("X-Amzn-Requestid", requestID)
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(status)
	_, _ = io.WriteString(w, b.String())
}

// writeError answers in the error shape of the request's protocol.
func writeError(w http.ResponseWriter, req *request, e *apiError) {
	status := e.Status
	if status == 0 {
		status = statusForCode(e.Code)
	}
	w.Header().Set("X-Amzn-Requestid", req.requestID)
	switch req.service {
	case "ssm", "kms":
		b, _ := json.Marshal(map[string]string{"__type": e.Code, "message": e.Message})
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(status)
		_, _ = w.Write(b)
	case "autoscaling", "sts":
		ns := autoScalingNamespace
		if req.service == "sts" {
			ns = stsNamespace
		}
		kind := "Sender"
		if status >= 500 {
			kind = "Receiver"
		}
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		fmt.Fprintf(w, `<ErrorResponse xmlns="%s"><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`,
			ns, kind, xmlEscape(e.Code), xmlEscape(e.Message), req.requestID)
	default:
		w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
		w.WriteHeader(status)
		fmt.Fprintf(w, `%s<Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>%s</RequestID></Response>`,
			xml.Header, xmlEscape(e.Code), xmlEscape(e.Message), req.requestID)
	}
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
