package proxy

import "testing"

func TestBufferPool(t *testing.T) {
	var p bufferPool
	b := p.Get()
	if len(b) != copyBufferSize || cap(b) != copyBufferSize {
		t.Fatalf("Get: len %d cap %d; want %d", len(b), cap(b), copyBufferSize)
	}
	p.Put(b)
	p.Put(make([]byte, 512)) // too small: dropped, never handed out
	for range 4 {
		if b := p.Get(); len(b) != copyBufferSize {
			t.Fatalf("Get after Put: len %d; want %d", len(b), copyBufferSize)
		}
	}
}
