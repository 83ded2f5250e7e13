# A small Sinatra ticket shop on Rack 2.2 (Debian's ruby-sinatra, ruby-rack, ruby-webrick): the
# buyer comes from Sinatra's params (query and form, multipart included), else from a JSON body
# read whatever its Content-Type; the account from an HS256 JWT in the `shop_session` cookie.
# Env: PORT, SESSION_KEY, optional ORDERS_FILE.
require 'base64'
require 'json'
require 'openssl'
require 'sinatra/base'

class Shop < Sinatra::Base
  EVENT_PAGE = File.read(File.join(__dir__, '..', 'event.html'))
  LOCK = Mutex.new
  @@orders = 0

  helpers do
    # The account of a valid session cookie, or nil.
    def session_account
      token = request.cookies['shop_session']
      return nil unless token.is_a?(String)
      header, payload, signature = parts = token.split('.')
      return nil unless parts.size == 3
      return nil unless JSON.parse(Base64.urlsafe_decode64(header))['alg'] == 'HS256'
      expected = OpenSSL::HMAC.digest('SHA256', ENV.fetch('SESSION_KEY'), "#{header}.#{payload}")
      return nil unless Rack::Utils.secure_compare(expected, Base64.urlsafe_decode64(signature))
      claims = JSON.parse(Base64.urlsafe_decode64(payload))
      claims['iss'] == 'demo-shop' && claims['sub'].is_a?(String) ? claims['sub'] : nil
    rescue ArgumentError, TypeError, NoMethodError, JSON::ParserError
      nil
    end

    # The request body as JSON whatever its Content-Type, or nil.
    def json_body
      request.body.rewind
      data = JSON.parse(request.body.read)
      data.is_a?(Hash) ? data : nil
    rescue JSON::ParserError
      nil
    end

    def text(value)
      value.is_a?(String) ? value : nil
    end
  end

  get '/health' do
    content_type :text
    'ok'
  end

  get '/events/:event' do
    EVENT_PAGE.gsub('{event}') { Rack::Utils.escape_html(params['event']) }
  end

  post '/events/:event/checkout' do
    customer = params['customer'].is_a?(Hash) ? params['customer'] : {}
    email = params['email'] || customer['email']
    tickets = params['tickets']
    if email.nil? || tickets.nil?
      json = json_body || {}
      email ||= json['email'] || (json['customer'].is_a?(Hash) ? json['customer']['email'] : nil)
      tickets ||= json['tickets']
    end
    line = LOCK.synchronize do
      @@orders += 1
      order = { order: @@orders, event: params['event'], account: session_account,
                email: text(email), tickets: text(tickets) }.to_json
      File.open(ENV['ORDERS_FILE'], 'a') { |f| f.puts(order) } if ENV['ORDERS_FILE']
      order
    end
    content_type :json
    line
  end
end
