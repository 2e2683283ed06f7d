// SPDX-License-Identifier: BSD-2-Clause
// The streaming calls of grpcsvc: a hand-written service grpcsvc.Echo (no
// generated code) whose messages are the health service's, one method per
// kind of stream.
package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	hpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// Count (server-streaming) answers "N" with N messages; Sum
// (client-streaming) answers the messages it got with one message; Chat
// (bidi) echoes each message and fails with InvalidArgument "bad message"
// on one that says "fail".
var echoDesc = grpc.ServiceDesc{
	ServiceName: "grpcsvc.Echo",
	HandlerType: (*interface{})(nil),
	Streams: []grpc.StreamDesc{
		{StreamName: "Count", Handler: count, ServerStreams: true},
		{StreamName: "Sum", Handler: sum, ClientStreams: true},
		{StreamName: "Chat", Handler: chat, ServerStreams: true, ClientStreams: true},
	},
}

func count(_ interface{}, s grpc.ServerStream) error {
	var req hpb.HealthCheckRequest
	if err := s.RecvMsg(&req); err != nil {
		return err
	}
	n, _ := strconv.Atoi(req.Service)
	for i := 0; i < n; i++ {
		if err := s.SendMsg(&hpb.HealthCheckResponse{}); err != nil {
			return err
		}
	}
	return nil
}

func sum(_ interface{}, s grpc.ServerStream) error {
	n := 0
	for {
		var req hpb.HealthCheckRequest
		err := s.RecvMsg(&req)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		n++
	}
	return s.SendMsg(&hpb.HealthCheckResponse{Status: hpb.HealthCheckResponse_ServingStatus(n % 4)})
}

func chat(_ interface{}, s grpc.ServerStream) error {
	for {
		var req hpb.HealthCheckRequest
		err := s.RecvMsg(&req)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if req.Service == "fail" {
			return status.Error(codes.InvalidArgument, "bad message")
		}
		if err := s.SendMsg(&hpb.HealthCheckResponse{}); err != nil {
			return err
		}
	}
}

// streams makes one call of each method with k messages, then a Chat that
// fails after k, and prints "stream METHOD CODE SENT RECEIVED NS" for each.
func streams(cc *grpc.ClientConn, k int) {
	call := func(i int, msgs []string) {
		d := &echoDesc.Streams[i]
		method := "/grpcsvc.Echo/" + d.StreamName
		t := time.Now()
		sent, recv := 0, 0
		s, err := cc.NewStream(context.Background(), d, method)
		if err != nil {
			panic(err)
		}
		for _, m := range msgs {
			if err = s.SendMsg(&hpb.HealthCheckRequest{Service: m}); err != nil {
				break
			}
			sent++
			if d.ServerStreams && d.ClientStreams {
				if err = s.RecvMsg(&hpb.HealthCheckResponse{}); err != nil {
					break
				}
				recv++
			}
		}
		if err == nil {
			err = s.CloseSend()
		}
		for err == nil {
			if err = s.RecvMsg(&hpb.HealthCheckResponse{}); err == nil {
				recv++
			}
		}
		if err == io.EOF {
			err = nil
		}
		fmt.Printf("stream %s %d %d %d %d\n", method, status.Code(err), sent, recv, time.Since(t).Nanoseconds())
	}
	many := make([]string, k)
	for i := range many {
		many[i] = "m"
	}
	call(0, []string{strconv.Itoa(k)})
	call(1, many)
	call(2, many)
	call(2, append(many, "fail"))
}
