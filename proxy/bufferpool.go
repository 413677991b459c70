package proxy

import (
	"net/http/httputil"
	"sync"
)

// copyBufferSize is the size of the buffers ReverseProxy copies bodies
// through: the 32 KiB it would otherwise allocate for every request.
const copyBufferSize = 32 << 10

// bufferPool lends ReverseProxy its copy buffers. Pointers to arrays are
// pooled, so Put does not allocate a slice header.
type bufferPool struct{ pool sync.Pool }

// Get returns a buffer of copyBufferSize bytes.
func (p *bufferPool) Get() []byte {
	if b, ok := p.pool.Get().(*[copyBufferSize]byte); ok {
		return b[:]
	}
	return new([copyBufferSize]byte)[:]
}

// Put returns a buffer from Get; buffers of another size are dropped.
func (p *bufferPool) Put(b []byte) {
	if cap(b) < copyBufferSize {
		return
	}
	p.pool.Put((*[copyBufferSize]byte)(b[:copyBufferSize]))
}

// copyBuffers is shared by the reverse proxies of every route and every
// snapshot.
var copyBuffers httputil.BufferPool = &bufferPool{}
