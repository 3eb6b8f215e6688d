package driver

import (
	"context"
	"database/sql"
	"database/sql/driver"
)

// Driver is the "planner" database/sql driver. It is registered by this
// package's init; programs use it through sql.Open("planner", dsn) or
// sql.OpenDB(NewConnector(cfg)).
type Driver struct{}

func init() {
	sql.Register("planner", &Driver{})
}

var (
	_ driver.Driver        = (*Driver)(nil)
	_ driver.DriverContext = (*Driver)(nil)
)

// Open opens one connection for dsn. database/sql prefers OpenConnector, which
// shares one Graph client among the pool's connections.
func (d *Driver) Open(dsn string) (driver.Conn, error) {
	c, err := d.OpenConnector(dsn)
	if err != nil {
		return nil, err
	}
	return c.Connect(context.Background())
}

// OpenConnector parses dsn and returns a connector for it.
func (d *Driver) OpenConnector(dsn string) (driver.Connector, error) {
	cfg, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	return NewConnector(cfg)
}
