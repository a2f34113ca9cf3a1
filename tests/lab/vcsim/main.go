// vcsim serves govmomi's vCenter simulator (VPX model) for the netboot.coreos lab and tests.
// It prints the SDK URL (with credentials) on its first line of output and runs until signalled.
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"os/signal"
	"syscall"

	"github.com/vmware/govmomi/simulator"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address:port to serve on (port 0 picks a free one)")
	username := flag.String("username", "user", "login user name")
	password := flag.String("password", "pass", "login password")
	clusterHosts := flag.Int("cluster-hosts", 3, "ESXi hosts in each cluster")
	vms := flag.Int("vms", 2, "VMs created per host and per cluster resource pool")
	flag.Parse()

	model := simulator.VPX()
	model.ClusterHost = *clusterHosts
	model.Machine = *vms
	if err := model.Create(); err != nil {
		log.Fatalf("vcsim: creating the inventory: %v", err)
	}
	defer model.Remove()

	model.Service.TLS = new(tls.Config)
	model.Service.Listen = &url.URL{Host: *listen, User: url.UserPassword(*username, *password)}
	server := model.Service.NewServer()
	defer server.Close()

	fmt.Println(server.URL.String())

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
}
