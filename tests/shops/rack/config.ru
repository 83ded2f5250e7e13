# Rack entry of the Sinatra test shop: `rackup -s webrick -o 127.0.0.1 -p $PORT -E production config.ru`.
require_relative 'app'
run Shop
