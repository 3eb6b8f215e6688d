package driver

import (
	"context"
	"iter"

	"github.com/plannersql/planner/graph"
	"github.com/plannersql/planner/schema"
)

// bucketsTable: the buckets of every plan.
var bucketsTable = (&table[graph.Bucket]{
	name: "Buckets",
	desc: "The buckets (board columns) of every plan.",
	cols: []column[graph.Bucket]{
		{name: "BucketId", typ: schema.Text, flags: key, desc: "The bucket's id.",
			get: func(b *graph.Bucket) any { return b.ID },
			push: &pushdown[graph.Bucket]{endpoint: "GET /planner/buckets/{id}", cost: cost{1, 1},
				fetch: func(ctx context.Context, x *session, id string, _ scanReq) iter.Seq2[*graph.Bucket, error] {
					return covered(ctx, x, x.bucket(ctx, id), func(b *graph.Bucket) string { return b.PlanID }, true)
				}}},
		{name: "PlanId", typ: schema.Text, flags: req, desc: "The id of the plan the bucket belongs to.",
			get: func(b *graph.Bucket) any { return b.PlanID },
			set: func(b *graph.Bucket, v any) error { b.PlanID = str(v); return nil },
			push: &pushdown[graph.Bucket]{endpoint: "GET /planner/plans/{id}/buckets", cost: cost{1, 5},
				fetch: func(ctx context.Context, x *session, id string, _ scanReq) iter.Seq2[*graph.Bucket, error] {
					return ifCovered(ctx, x, id, func() iter.Seq2[*graph.Bucket, error] { return x.bucketsOfPlan(ctx, id) })
				}}},
		textField("Name", req, iu, "The bucket's name.", "name", func(b *graph.Bucket) *string { return &b.Name }),
		textField("OrderHint", null, iu, "The bucket's position (order-hint format; sort with ORDER BY OrderHint). INSERT without it lets the service choose, UPDATE to NULL puts the bucket last, "+
			"and another bucket's value puts the bucket there (see the rules on order hints).",
			"orderHint", func(b *graph.Bucket) *string { return &b.OrderHint }),
		etagCol("The bucket's version.", func(b *graph.Bucket) string { return b.ETag }),
	},
	scan: func(ctx context.Context, x *session, q scanReq) iter.Seq2[*graph.Bucket, error] {
		return x.allBuckets(ctx, x.concurrency(q))
	},
	scanCost: cost{21, 50},
	version:  func(b *graph.Bucket) version { return version{"bucket:" + b.ID, b.ETag} },
	insert: func(ctx context.Context, x *session, b *graph.Bucket) (*graph.Bucket, error) {
		h, err := placeHint(b.OrderHint, "", hintPlace{}, x.bucketSiblings(ctx, b.PlanID, ""))
		if err != nil {
			return nil, err
		}
		b.OrderHint = h
		return x.g.Buckets.Create(ctx, b)
	},
	update: func(ctx context.Context, x *session, old *graph.Bucket, v version, p graph.Patch) (*graph.Bucket, string, error) {
		if err := placePatched(p, "orderHint", old.OrderHint, hintPlace{}, x.bucketSiblings(ctx, old.PlanID, old.ID)); err != nil {
			return nil, "", err
		}
		if len(p) == 0 {
			return old, "", nil // nothing left to send
		}
		etag, err := x.current(v, x.bucketETag(ctx, old.ID))
		if err != nil {
			return nil, "", err
		}
		b, err := x.g.Buckets.Update(ctx, old.ID, etag, p)
		if err != nil {
			return nil, "", err
		}
		if b == nil {
			x.wrote(v.obj, etag, "")
			return nil, etag, nil
		}
		x.wrote(v.obj, etag, b.ETag)
		return b, etag, nil
	},
	delete: func(ctx context.Context, x *session, old *graph.Bucket, v version) error {
		etag, err := x.current(v, x.bucketETag(ctx, old.ID))
		if err != nil {
			return err
		}
		return x.g.Buckets.Delete(ctx, old.ID, etag)
	},
	notes: []string{"DELETE removes the bucket and every task in it."},
	examples: []schema.Example{
		{Title: "Buckets of a plan in board order", SQL: "SELECT Name FROM Buckets WHERE PlanId = ? ORDER BY OrderHint COLLATE BINARY"},
	},
}).init()

func (x *session) bucketETag(ctx context.Context, id string) func() (string, error) {
	return func() (string, error) {
		b, err := x.g.Buckets.Get(ctx, id)
		if err != nil {
			return "", err
		}
		return b.ETag, nil
	}
}

// bucketSiblings returns the order hints of the plan's buckets other than
// skip (read only when a copied service value must be placed).
func (x *session) bucketSiblings(ctx context.Context, planID, skip string) func() ([]string, error) {
	return hintsOf(func() iter.Seq2[*graph.Bucket, error] { return x.bucketsOfPlan(ctx, planID) }, skip, bucketID,
		func(b *graph.Bucket) string { return b.OrderHint })
}
