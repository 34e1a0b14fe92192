// Command loadgen posts signed webhook reports (Standard Webhooks) to an intake-hub as fast as the
// hub answers or at a fixed rate, and prints one JSON summary: answers by status, latency
// quantiles, throughput and the generator's own CPU time (so a reader can see what the load cost).
// Standard library only: it builds offline with the Go toolchain (`go build`).
//
//	loadgen -url http://127.0.0.1:8080/intake/app -secret whsec_... -bodies bodies.jsonl \
//	        -concurrency 64 [-rate 100] [-duration 30s | -n 20000] [-redeliver-url URL]
package main

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type result struct {
	status int
	ms     float64
	index  int
}

func main() {
	url := flag.String("url", "", "intake URL (POST); several, comma-separated, are used in turn (request i goes to URL i mod n: a round-robin load balancer)")
	redeliver := flag.String("redeliver-url", "", "also send every report a second time to this URL (a redelivery to another instance)")
	secret := flag.String("secret", "", "Standard Webhooks secret (whsec_<base64>)")
	bodiesFile := flag.String("bodies", "", "JSON lines, one report body per line")
	concurrency := flag.Int("concurrency", 64, "requests in flight")
	rate := flag.Float64("rate", 0, "requests per second (0: as fast as answered)")
	duration := flag.Duration("duration", 0, "stop after this long (0: after -n or all bodies)")
	n := flag.Int("n", 0, "requests to send (0: every body once)")
	acked := flag.String("acked", "", "write the index of every body answered 2xx to this file")
	flag.Parse()
	if *url == "" || *secret == "" || *bodiesFile == "" {
		fmt.Fprintln(os.Stderr, "usage: loadgen -url URL -secret whsec_... -bodies FILE [-concurrency 64] [-rate R] [-duration D] [-n N]")
		os.Exit(2)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(*secret, "whsec_"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "bad secret:", err)
		os.Exit(2)
	}
	bodies := readBodies(*bodiesFile)
	total := len(bodies)
	if *n > 0 {
		total = *n
	}
	urls := strings.Split(*url, ",")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *concurrency * 2, MaxConnsPerHost: *concurrency * 2, IdleConnTimeout: 30 * time.Second}, Timeout: 60 * time.Second}
	var next int64 = -1
	var stop atomic.Bool
	results := make(chan result, 4096)
	var tick <-chan time.Time
	if *rate > 0 {
		t := time.NewTicker(time.Duration(float64(time.Second) / *rate))
		defer t.Stop()
		tick = t.C
	}
	post := func(target string, i int, id string) result {
		body := bodies[i%len(bodies)]
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(id + "." + ts + "."))
		mac.Write(body)
		req, _ := http.NewRequest("POST", target, bytes.NewReader(body))
		req.Header.Set("content-type", "application/json")
		req.Header.Set("webhook-id", id)
		req.Header.Set("webhook-timestamp", ts)
		req.Header.Set("webhook-signature", "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
		t0 := time.Now()
		res, err := client.Do(req)
		ms := float64(time.Since(t0).Microseconds()) / 1000
		if err != nil {
			return result{status: 0, ms: ms, index: i}
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return result{status: res.StatusCode, ms: ms, index: i}
	}
	started := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < *concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				i := int(atomic.AddInt64(&next, 1))
				if i >= total {
					return
				}
				if tick != nil {
					<-tick
				}
				id := fmt.Sprintf("msg_%d_%d", started.UnixNano(), i)
				r := post(urls[i%len(urls)], i, id)
				results <- r
				if *redeliver != "" {
					results <- post(*redeliver, i, id+"_r")
				}
			}
		}()
	}
	if *duration > 0 {
		go func() {
			time.Sleep(*duration)
			stop.Store(true)
		}()
	}
	go func() {
		wg.Wait()
		close(results)
	}()
	statuses := map[string]int{}
	var lat []float64
	var ackedIdx []int
	for r := range results {
		statuses[strconv.Itoa(r.status)]++
		if r.status >= 200 && r.status < 300 {
			lat = append(lat, r.ms)
			ackedIdx = append(ackedIdx, r.index)
		}
	}
	elapsed := time.Since(started).Seconds()
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	cpu := float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
	sort.Float64s(lat)
	q := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return lat[int(p*float64(len(lat)-1))]
	}
	sent := 0
	for _, c := range statuses {
		sent += c
	}
	if *acked != "" {
		f, _ := os.Create(*acked)
		w := bufio.NewWriter(f)
		for _, i := range ackedIdx {
			fmt.Fprintln(w, i)
		}
		w.Flush()
		f.Close()
	}
	out := map[string]any{
		"sent": sent, "statuses": statuses, "seconds": elapsed, "ok_per_second": float64(len(lat)) / elapsed,
		"p50_ms": q(0.5), "p90_ms": q(0.9), "p99_ms": q(0.99), "max_ms": q(1),
		"loadgen_cpu_seconds": cpu, "loadgen_cpu_us_per_request": cpu / float64(max(sent, 1)) * 1e6,
	}
	json.NewEncoder(os.Stdout).Encode(out)
}

func readBodies(file string) [][]byte {
	f, err := os.Open(file)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	defer f.Close()
	var out [][]byte
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 1<<20), 16<<20)
	for s.Scan() {
		line := bytes.TrimSpace(s.Bytes())
		if len(line) > 0 {
			out = append(out, append([]byte(nil), line...))
		}
	}
	if len(out) == 0 {
		fmt.Fprintln(os.Stderr, "no bodies in", file)
		os.Exit(2)
	}
	return out
}
