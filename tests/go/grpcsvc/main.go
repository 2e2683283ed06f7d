// SPDX-License-Identifier: BSD-2-Clause
// grpcsvc: a gRPC health server and a client on loopback. The client calls
// Check N times for service "ok" (SERVING) and M times for "missing"
// (NotFound), then prints one line per call with its code and latency.
// "grpcsvc streams K" makes streaming calls instead (streams.go).
package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	hpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

func main() {
	n, _ := strconv.Atoi(os.Args[1])
	m, _ := strconv.Atoi(os.Args[2])
	streaming := os.Args[1] == "streams"
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := grpc.NewServer()
	hs := health.NewServer()
	hs.SetServingStatus("ok", hpb.HealthCheckResponse_SERVING)
	hpb.RegisterHealthServer(srv, hs)
	srv.RegisterService(&echoDesc, nil)
	go srv.Serve(lis)
	fmt.Println("listening", lis.Addr())
	if len(os.Args) > 3 {
		time.Sleep(time.Duration(mustAtoi(os.Args[3])) * time.Millisecond)
	}
	cc, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		panic(err)
	}
	if streaming {
		streams(cc, m)
		n, m = 0, 0
	}
	c := hpb.NewHealthClient(cc)
	call := func(svc string) {
		t := time.Now()
		_, err := c.Check(context.Background(), &hpb.HealthCheckRequest{Service: svc})
		fmt.Printf("call %s %d %d\n", svc, status.Code(err), time.Since(t).Nanoseconds())
	}
	for i := 0; i < n; i++ {
		call("ok")
	}
	for i := 0; i < m; i++ {
		call("missing")
	}
	cc.Close()
	srv.Stop()
}

func mustAtoi(s string) int { v, _ := strconv.Atoi(s); return v }
